// Full-catalog ranking of a split's first target for the users of this rank (history items
// masked), reduced exactly across ranks as sums and counts: HR@K, NDCG@K, MRR, and the same
// against 99 sampled negatives (the older protocol, for comparison with published numbers).
// Used by the trainer for early stopping; `divrec eval` is the full evaluation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "data_shards/dataset.h"
#include "trainer/model/seq_model.h"

namespace divrec::trainer {

struct RankingConfig {
  std::vector<int> ks = {10, 20};
  int64_t max_len = 50;
  int64_t batch_size = 256;
  bool causal = true;        // next-item model (false: masked-item model, [MASK] appended)
  bool sampled_99 = true;    // also rank against 99 sampled negatives
  uint64_t seed = 2024;      // negatives for the sampled protocol, per user
};

// `users` index into seqs (this rank's share). Returns global means, e.g. "ndcg@10", "hr@10",
// "mrr", "sampled_ndcg@10", plus "users" (global count of evaluated users).
std::map<std::string, double> evaluate_ranking(model::SeqModel& model,
                                               const data::UserSequences& seqs,
                                               const std::vector<int64_t>& users, data::Split split,
                                               const RankingConfig& cfg, core::Communicator& comm);

// Returned by rank_of_target for a target that cannot be ranked (masked: it is in the history):
// larger than every K, so it is a miss at every cut-off, even K >= the catalog size.
inline constexpr int64_t kUnrankedTarget = INT64_MAX;

// 0-based rank of the target among unmasked items (masked = -inf) under the pessimistic tie rule
// that `divrec eval` uses too (docs/diversity.md, "Ties"): #other items scoring higher OR EQUAL.
// A masked or non-finite target gives kUnrankedTarget.
int64_t rank_of_target(const float* scores, int64_t num_items, int32_t target);

}  // namespace divrec::trainer
