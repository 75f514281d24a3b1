// MMR with an incremental max-similarity array: O(n) per step plus one similarity row.
#include "eval/rerank/mmr.h"

#include <fmt/format.h>

#include "eval/rerank/kernels.h"

namespace divrec::eval {

std::string MmrReranker::name() const { return fmt::format("mmr(lambda={})", lambda_); }

void MmrReranker::begin(const GreedyList& list, Workspace& ws) const {
  float* m = grow(ws.maxsim, static_cast<size_t>(list.n));
  std::fill(m, m + list.n, 0.f);  // unused until the first pick: the empty list has no penalty
}

void MmrReranker::gains(const GreedyList& list, Workspace& ws, float* gain) const {
  const float a = lambda_, b = 1.f - lambda_;
  const float* m = ws.maxsim.data();
  const float* rel = list.rel;
  for (int i = 0; i < list.n; ++i) gain[i] = a * rel[i] - b * m[i];
}

void MmrReranker::commit(const GreedyList& list, int, const float* sim_row, Workspace& ws) const {
  float* m = ws.maxsim.data();
  if (list.size == 0) {
    std::copy(sim_row, sim_row + list.n, m);  // max over a one-item list (may be negative)
  } else {
    kernels::max_inplace(sim_row, m, list.n);
  }
}

}  // namespace divrec::eval
