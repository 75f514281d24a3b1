// Hard constraints on a re-ranked list (combinable with every method) and the exact check of a
// finished list against them. Enforcement during the greedy lives in constraint_tracker.h.
// Definitions: docs/diversity.md, "Hard constraints".
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/rerank/similarity.h"
#include "eval/rerank/workspace.h"

namespace divrec::eval {

// In the order used for reasons (the first constraint that rejects an item names the reason).
enum class ConstraintKind : int8_t {
  kAttrsPerItem = 0,    // every item carries >= m_a attributes (or, average mode, the mean does)
  kMaxPerCategory = 1,  // at most c items per category
  kMaxSimilarity = 2,   // no pair of listed items with similarity > tau
  kMinCategories = 3,   // >= m distinct categories
  kMinAttributes = 4,   // >= a distinct attribute values covered
  kMinDistinct = 5,     // >= d distinct item ids
};
constexpr int kNumConstraintKinds = 6;
// "min_attrs_per_item", "max_per_category", "max_similarity", "min_categories",
// "min_attributes", "min_distinct" (the names in RerankResult::violated and in metrics).
const char* constraint_name(ConstraintKind kind);

struct Constraints {
  int min_categories = 0;      // --min-categories (0 = off); category -1 (none) does not count
  int max_per_category = 0;    // --max-per-category (0 = off); items without category unlimited
  int min_attributes = 0;      // --min-attributes (0 = off)
  int min_attrs_per_item = 0;  // --min-attrs-per-item (0 = off)
  // --attrs-per-item-average: require sum over the list of attribute counts >= n * m_a (the mean)
  // instead of every listed item carrying >= m_a attributes (the default, strict reading).
  bool attrs_per_item_average = false;
  // --max-similarity tau: no two listed items with similarity > tau (near-duplicates; repeated
  // item ids have similarity 1). Off when not finite.
  float max_similarity = std::numeric_limits<float>::infinity();
  int min_distinct = 0;  // --min-distinct (0 = off)

  bool enabled(ConstraintKind kind) const;
  bool any() const;
  // "min_categories=2 min_distinct=3 ..." (only the enabled ones; "none" when nothing is).
  std::string describe() const;
};

// Throws divrec::Error naming the option on a negative count or a NaN tau.
void validate(const Constraints& c);

// The constraints `items[0..n)` violates, in ConstraintKind order (empty = satisfied), using
// the workspace's check buffers (no allocation once grown). Counts a list cannot reach are
// violations (a 3-item list cannot cover 4 categories).
void violated_constraints(const int32_t* items, int n, const Constraints& c,
                          const data::ItemTable& table, const ItemSimilarity& sim, Workspace& ws,
                          std::vector<ConstraintKind>& out);
std::vector<ConstraintKind> violated_constraints(const std::vector<int32_t>& items,
                                                 const Constraints& c, const data::ItemTable& table,
                                                 const ItemSimilarity& sim);

// Attribute count of an item; 0 when the table has no attribute CSR.
inline int64_t attr_count(const data::ItemTable& t, int32_t item) {
  return t.attr_offsets.empty() ? 0 : t.num_attrs(item);
}
inline int32_t category_of(const data::ItemTable& t, int32_t item) {
  return t.category.empty() ? -1 : t.category[static_cast<size_t>(item)];
}

}  // namespace divrec::eval
