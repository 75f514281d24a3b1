// ANN candidates re-scored exactly (see ann_candidates.h). The fetch count grows with the history
// so that masking history items never leaves fewer than N candidates when the index has them.
#include "eval/retrieval/ann_candidates.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "trainer/model/score_subset.h"

namespace divrec::eval {

int64_t ann_fetch_count(int64_t n, int64_t history, int64_t min_candidates, int64_t items) {
  return std::min(items, std::max(min_candidates, n) + std::max<int64_t>(history, 0));
}

int ann_top_n(const AnnIndex& index, const model::ScoreTable& table, const float* user, int64_t n,
              const model::ExcludeList& exclude, const RetrievalOptions& options, AnnScratch& s,
              int32_t* items_out, float* scores_out) {
  DIVREC_CHECK_HINT(index.size() == table.num_items() && index.dim() == table.dim(),
                    "rebuild the ANN index from these item vectors", "ANN index holds [",
                    index.size(), ", ", index.dim(), "], the item table is [", table.num_items(),
                    ", ", table.dim(), "]");
  if (n <= 0) return 0;
  s.history.assign(exclude.ids, exclude.ids + std::max<int64_t>(exclude.n, 0));
  std::sort(s.history.begin(), s.history.end());
  s.history.erase(std::unique(s.history.begin(), s.history.end()), s.history.end());
  const int64_t fetch = ann_fetch_count(n, static_cast<int64_t>(s.history.size()),
                                        options.min_candidates, index.size());
  AnnSearchParams p = options.search;
  p.threads = 1;  // one request, one core: the caller's threads are the parallelism
  const AnnHits hits = index.search(user, 1, fetch, p);

  s.ids.clear();
  for (int64_t id : hits.ids) {
    if (id < 0) continue;  // the index found fewer than `fetch`
    const auto i = static_cast<int32_t>(id);
    if (!std::binary_search(s.history.begin(), s.history.end(), i)) s.ids.push_back(i);
  }
  // Faiss's approximate scores are not the kernel's bits: re-score every candidate exactly.
  s.scores.resize(s.ids.size());
  model::score_items(table, user, s.ids.data(), static_cast<int64_t>(s.ids.size()),
                     s.scores.data());
  s.order.resize(s.ids.size());
  std::iota(s.order.begin(), s.order.end(), 0);
  // The kernel's order: score descending, equal scores by lower id; NaN never returned.
  s.order.erase(std::remove_if(s.order.begin(), s.order.end(),
                               [&](int32_t j) { return std::isnan(s.scores[j]); }),
                s.order.end());
  const auto better = [&](int32_t a, int32_t b) {
    if (s.scores[a] != s.scores[b]) return s.scores[a] > s.scores[b];
    return s.ids[a] < s.ids[b];
  };
  const auto count = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(n), s.order.size()));
  std::partial_sort(s.order.begin(), s.order.begin() + count, s.order.end(), better);
  for (int64_t j = 0; j < count; ++j) {
    items_out[j] = s.ids[s.order[j]];
    scores_out[j] = s.scores[s.order[j]];
  }
  return static_cast<int>(count);
}

int64_t overlap(const int32_t* approx, int64_t na, const int32_t* exact, int64_t ne,
                std::vector<int32_t>& scratch) {
  scratch.assign(exact, exact + ne);
  std::sort(scratch.begin(), scratch.end());
  int64_t hit = 0;
  for (int64_t j = 0; j < na; ++j)
    hit += std::binary_search(scratch.begin(), scratch.end(), approx[j]);
  return hit;
}

}  // namespace divrec::eval
