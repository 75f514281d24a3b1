// xQuAD with one primary category per item: the aspect sum has a single term, p(c_i|u), which
// drops to 0 once an item of c_i is listed (binary coverage). With no categorised history,
// p(c|u) is uniform over the categories among the candidates (Santos et al.'s uniform fallback).
#include "eval/rerank/xquad.h"

#include <fmt/format.h>

#include "eval/rerank/constraints.h"

namespace divrec::eval {

std::string XquadReranker::name() const { return fmt::format("xquad(lambda={})", lambda_); }

void XquadReranker::begin(const GreedyList& list, Workspace& ws) const {
  const int n = list.n;
  const size_t un = static_cast<size_t>(std::max(n, 1));
  float* aspect = grow(ws.aspect, un);
  uint8_t* uncovered = grow(ws.uncovered, un);
  int32_t* cat = grow(ws.cand_cat, un);
  for (int i = 0; i < n; ++i) {
    cat[i] = category_of(table_, list.items[i]);
    uncovered[i] = 1;
  }
  const CategoryDistribution& h = *list.history;
  if (!h.empty()) {
    for (int i = 0; i < n; ++i) aspect[i] = cat[i] >= 0 ? static_cast<float>(h.prob(cat[i])) : 0.f;
    return;
  }
  ws.cat_seen.reset(static_cast<size_t>(std::max<int64_t>(table_.num_categories, 1)));
  int distinct = 0;
  for (int i = 0; i < n; ++i) {
    if (cat[i] < 0) continue;
    uint8_t& seen = ws.cat_seen.at(static_cast<size_t>(cat[i]));
    distinct += seen == 0;
    seen = 1;
  }
  const float u = distinct > 0 ? 1.f / static_cast<float>(distinct) : 0.f;
  for (int i = 0; i < n; ++i) aspect[i] = cat[i] >= 0 ? u : 0.f;
}

void XquadReranker::gains(const GreedyList& list, Workspace& ws, float* gain) const {
  const float a = static_cast<float>(1.0 - lambda_), b = static_cast<float>(lambda_);
  const float* aspect = ws.aspect.data();
  const uint8_t* uncovered = ws.uncovered.data();
  for (int i = 0; i < list.n; ++i) {
    gain[i] = a * list.rel[i] + (uncovered[i] ? b * aspect[i] : 0.f);
  }
}

void XquadReranker::commit(const GreedyList& list, int pos, const float*, Workspace& ws) const {
  const int32_t* cat = ws.cand_cat.data();
  const int32_t c = cat[pos];
  if (c < 0) return;
  uint8_t* uncovered = ws.uncovered.data();
  for (int i = 0; i < list.n; ++i) {
    if (cat[i] == c) uncovered[i] = 0;  // prod (1 - p(j|c)) is now 0 for c
  }
}

}  // namespace divrec::eval
