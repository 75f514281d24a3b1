// Brute-force top-k by inner product and recall@k; see exact_topk.h.
#include "eval/retrieval/exact_topk.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "core/check.h"

namespace divrec::eval {

std::vector<int64_t> exact_top_k(const float* users, int64_t batch, const float* items, int64_t n,
                                 int64_t d, int64_t k) {
  DIVREC_CHECK_HINT(k >= 1 && k <= n && d >= 1, "k must be in [1, items]", "exact top-k: k=", k,
                    " over ", n, " items of dimension ", d);
  std::vector<int64_t> out(static_cast<size_t>(batch * k));
  // Users are independent: one OpenMP thread per user row (a reference, not a serving path).
#pragma omp parallel
  {
    std::vector<float> score(n);
    std::vector<int64_t> order(n);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < batch; ++b) {
      const float* u = users + b * d;
      for (int64_t i = 0; i < n; ++i) {
        const float* v = items + i * d;
        float s = 0.0f;
        for (int64_t j = 0; j < d; ++j) s += u[j] * v[j];
        score[i] = s;
      }
      std::iota(order.begin(), order.end(), 0);
      auto better = [&](int64_t a, int64_t c) {
        return score[a] > score[c] || (score[a] == score[c] && a < c);
      };
      std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), better);
      std::sort(order.begin(), order.begin() + k, better);
      std::copy_n(order.begin(), k, out.begin() + b * k);
    }
  }
  return out;
}

double recall_at_k(const std::vector<int64_t>& ann_ids, const std::vector<int64_t>& exact_ids,
                   int64_t batch, int64_t k) {
  DIVREC_CHECK_HINT(k >= 1 && ann_ids.size() == static_cast<size_t>(batch * k) &&
                        exact_ids.size() == static_cast<size_t>(batch * k),
                    "both lists are row-major [batch, k]", "recall@k: ann has ", ann_ids.size(),
                    " ids, exact has ", exact_ids.size(), ", expected ", batch, " x ", k);
  if (batch == 0) return 1.0;
  double sum = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    std::unordered_set<int64_t> truth(exact_ids.begin() + b * k, exact_ids.begin() + (b + 1) * k);
    int64_t hit = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t id = ann_ids[b * k + j];
      hit += (id >= 0 && truth.erase(id) > 0) ? 1 : 0;  // erase: a repeated id counts once
    }
    sum += static_cast<double>(hit) / static_cast<double>(k);
  }
  return sum / static_cast<double>(batch);
}

}  // namespace divrec::eval
