// HR / Recall / NDCG / MRR with multiple targets. Lists and target sets are short (K <= a few
// hundred), so membership is a linear scan: no allocation per user.
#include "eval/metrics/ranking.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace divrec::eval {

namespace {

bool contains(const int32_t* v, int n, int32_t x) { return std::find(v, v + n, x) != v + n; }

}  // namespace

RankingMetrics ranking_metrics(const int32_t* list, int len, const int32_t* targets,
                               int num_targets, int k) {
  DIVREC_CHECK(num_targets > 0, "ranking metrics need at least one target item");
  DIVREC_CHECK(k > 0, "ranking metrics need K > 0, got ", k);
  int distinct_targets = 0;
  for (int j = 0; j < num_targets; ++j) distinct_targets += !contains(targets, j, targets[j]);
  const int top = std::min(k, len);
  RankingMetrics m;
  int hits = 0;
  double dcg = 0;
  for (int p = 0; p < top; ++p) {
    const int32_t item = list[p];
    if (!contains(targets, num_targets, item) || contains(list, p, item)) continue;
    ++hits;
    dcg += 1.0 / std::log2(p + 2.0);
    if (hits == 1) m.mrr = 1.0 / (p + 1.0);
  }
  double idcg = 0;
  for (int p = 0, e = std::min(distinct_targets, k); p < e; ++p) idcg += 1.0 / std::log2(p + 2.0);
  m.hr = hits > 0 ? 1.0 : 0.0;
  m.recall = static_cast<double>(hits) / distinct_targets;
  m.ndcg = dcg / idcg;
  return m;
}

}  // namespace divrec::eval
