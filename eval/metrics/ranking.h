// Accuracy metrics of one ranked list against one or more target items (leave-one-out has one
// target, temporal splits several): HR, Recall, NDCG and MRR at a cut-off K. Definitions:
// docs/diversity.md, "Accuracy".
#pragma once

#include <cstdint>

namespace divrec::eval {

struct RankingMetrics {
  double hr = 0;      // 1 if any target is in the top K
  double recall = 0;  // targets in the top K / |T|
  double ndcg = 0;    // DCG / ideal DCG over min(|T|, K) positions, binary gains, log2(rank + 1)
  double mrr = 0;     // 1 / rank of the first target in the top K (0 if none)
};

// The top K are list[0 .. min(K, len)). Repeated targets count once (|T| = distinct targets), and
// a target listed twice is a hit only at its first position. Needs num_targets > 0.
RankingMetrics ranking_metrics(const int32_t* list, int len, const int32_t* targets,
                               int num_targets, int k);

}  // namespace divrec::eval
