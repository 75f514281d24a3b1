// Enforcement of hard constraints inside the greedy: per-candidate filters (attributes per item,
// items per category, near-duplicates) and feasibility-aware admission for the count constraints
// (categories, attributes, distinct items): a candidate is admitted only if, after picking it,
// the remaining slots can still close every deficit (a slot-reserving rule; docs/diversity.md).
#pragma once

#include <cstdint>

#include "data_shards/dataset.h"
#include "eval/rerank/constraints.h"
#include "eval/rerank/workspace.h"

namespace divrec::eval {

// Bit (1 << kind) per enforced constraint.
using ConstraintMask = uint32_t;
inline ConstraintMask mask_of(ConstraintKind k) { return 1u << static_cast<int>(k); }

class ConstraintTracker {
 public:
  // items[0..n) are the candidates; `length` is the list length the greedy will produce.
  ConstraintTracker(const Constraints& c, const data::ItemTable& table, const int32_t* items, int n,
                    int length, Workspace& ws);

  bool active() const { return enabled_ != 0; }
  bool needs_similarity() const {
    return (enabled_ & mask_of(ConstraintKind::kMaxSimilarity)) != 0;
  }
  ConstraintMask enabled() const { return enabled_; }

  // Per-step aggregates for `mask` with `slots_left` picks to go (availability of new categories,
  // optimistic bounds on attributes the remaining slots can add). used[i] = 1 for listed ones.
  void prepare(ConstraintMask mask, int slots_left, const uint8_t* used);
  // -1 when unused candidate i may be picked now under `mask` (after prepare(mask, ...)),
  // otherwise the index of the first ConstraintKind that rejects it.
  int reject(int i, ConstraintMask mask) const;
  // Whether candidate i passes the per-item filters of `mask` (attributes per item in the strict
  // reading, items per category, near-duplicates) as the list stands.
  bool passes_filters(int i, ConstraintMask mask) const;
  // Records that candidate i was appended; sim_row = similarity of i to every candidate (only
  // read when needs_similarity()).
  void commit(int i, const float* sim_row);

 private:
  bool in_list(int32_t item) const;
  void insert_item(int32_t item);
  // Sum of the s largest values in ws_.top_scratch[0..m) and the s-th largest (0 if m < s).
  void top_sum(int m, int s, int64_t* sum, int32_t* sth) const;

  const Constraints& c_;
  const data::ItemTable& table_;
  const int32_t* items_;
  int n_;
  Workspace& ws_;
  ConstraintMask enabled_ = 0;
  bool average_attrs_ = false;
  // The list so far.
  int distinct_categories_ = 0;
  int covered_attrs_ = 0;
  int64_t attr_sum_ = 0;
  int distinct_items_ = 0;
  uint32_t set_mask_ = 0;  // item_set capacity - 1
  // Targets, capped by what the candidates can reach (the final check uses the real values).
  int target_categories_ = 0;
  int target_attrs_ = 0;
  int target_distinct_ = 0;
  int64_t target_attr_sum_ = 0;
  // Per step.
  int slots_ = 0;
  int new_categories_available_ = 0;
  int64_t attr_top_sum_ = 0;  // min_attributes: sum of the s largest new-attribute counts
  int32_t attr_top_sth_ = 0;
  int64_t count_top_sum_ = 0;  // average attrs: sum of the s largest attribute counts
  int32_t count_top_sth_ = 0;
};

}  // namespace divrec::eval
