// The re-ranking half of the evaluation pass: one block of users' top-N candidates re-ranked with
// every setting on `threads` static slots over the setting-major (setting, user) pairs, every
// metric added to per-slot fixed-point accumulators (so any merge order gives the same bits), and
// optionally each group's exposure of the first setting's lists (fair-exposure driver).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "data_shards/dataset.h"
#include "eval/dump_lists.h"
#include "eval/metrics/suite.h"
#include "eval/report.h"
#include "eval/rerank/exposure_policy.h"
#include "eval/rerank/reranker.h"

namespace divrec::eval {

// One block of users and their candidates: row b's N candidates at items/scores + b * n, the
// first count[b] of them valid (model::TopN's layout).
struct CandidateBlock {
  const std::vector<int64_t>* rows = nullptr;  // rows of the user sequences
  const int32_t* items = nullptr;
  const float* scores = nullptr;
  const int* count = nullptr;
  int64_t n = 0;
  // From an ANN index: candidates may miss unmasked items that tie with a target (the tie rule
  // then counts such a target as pushed out; eval/metrics/ties.h).
  bool ann = false;
};

class BatchReranker {
 public:
  // rerankers[s] evaluates settings[s]; everything must outlive this object. groups (may be
  // null): count each group's exposure of setting 0's lists at cut-off group_k.
  BatchReranker(const MetricSuite& suite, std::vector<const Reranker*> rerankers,
                const Constraints& constraints, data::Split split, int max_k, int threads,
                const ExposureGroups* groups = nullptr, int group_k = 0);

  // Re-ranks and measures one block. lines (may be null): setting 0's lists appended in row order
  // (needs raw_user_ids, indexed by dense user id).
  void run(const data::UserSequences& seqs, const CandidateBlock& block,
           const std::vector<std::string>* raw_user_ids, std::vector<DumpLine>* lines);

  // Collective: the global metrics of each setting (settings[s] gives the description).
  std::vector<SettingResult> finalize(const std::vector<RerankSetting>& settings,
                                      core::Communicator& comm);
  // This rank's group exposure counts [G * group_k] (count_group_exposure layout).
  std::vector<int64_t> group_counts() const;

 private:
  struct Slot {
    Workspace ws;
    RerankResult result;
    MetricScratch scratch;
    std::vector<std::unique_ptr<MetricAccumulator>> acc;  // per setting, made on first use
    std::vector<int64_t> group_counts;
  };
  const MetricSuite& suite_;
  std::vector<const Reranker*> rerankers_;
  const Constraints& constraints_;
  data::Split split_;
  int max_k_;
  const ExposureGroups* groups_;
  int group_k_;
  std::vector<Slot> slots_;
  std::vector<CategoryDistribution> dists_;
  std::vector<DumpLine> block_lines_;
};

}  // namespace divrec::eval
