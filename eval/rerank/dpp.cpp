// Fast greedy DPP MAP (Chen et al. 2018, Algorithms 1 and 2), run on the unscaled kernel S:
// Cholesky of diag(q) S diag(q) is diag(q) chol(S), so the residual of candidate i under L is
// q_i^2 r_i with r_i its residual under S. We keep r_i in [0, 1] (well scaled for float) and
// rank by q_i^2 r_i = exp(2 theta (rel_i - 1)) r_i, monotone in the log-det gain
// 2 theta rel_i + log r_i. Row r of `chol` holds the r-th Cholesky column over all candidates.
#include "eval/rerank/dpp.h"

#include <fmt/format.h>

#include <cmath>

#include "eval/rerank/kernels.h"

namespace divrec::eval {

std::string DppReranker::name() const {
  return window_ > 0 ? fmt::format("dpp(theta={},window={})", theta_, window_)
                     : fmt::format("dpp(theta={})", theta_);
}

void DppReranker::begin(const GreedyList& list, Workspace& ws) const {
  const int n = list.n;
  const size_t un = static_cast<size_t>(std::max(n, 1));
  float* q2 = grow(ws.q2, un);
  float* r = grow(ws.resid, un);
  grow(ws.acc, un);
  grow(ws.chol, static_cast<size_t>(std::max(list.length, 1)) * un);
  grow(ws.chol_pos, static_cast<size_t>(std::max(list.length, 1)));
  grow(ws.chol_coef, static_cast<size_t>(std::max(list.length, 1)));
  grow(ws.chol_rows, static_cast<size_t>(std::max(list.length, 1)));
  const double two_theta = 2.0 * theta_;
  for (int i = 0; i < n; ++i) {
    q2[i] = static_cast<float>(std::exp(two_theta * (static_cast<double>(list.rel[i]) - 1.0)));
    r[i] = 1.f;  // S_ii = 1
  }
  ws.chol_count = 0;
  ws.chol_left = 0;
}

void DppReranker::gains(const GreedyList& list, Workspace& ws, float* gain) const {
  // Exhausted candidates (no volume left) go last, by relevance: rel - 2 < 0 <= q2 * r.
  kernels::dpp_gains(ws.q2.data(), ws.resid.data(), list.rel, kDppEpsilon, gain, list.n);
}

void DppReranker::commit(const GreedyList& list, int pos, const float* sim_row,
                         Workspace& ws) const {
  const int n = list.n;
  float* r = ws.resid.data();
  if (r[pos] <= kDppEpsilon) return;  // adds no volume: not part of the basis
  const int t = ws.chol_count;
  const int left = ws.chol_left;
  float* chol = ws.chol.data();
  float* acc = ws.acc.data();
  // The kernel row S(pos, .) minus its projection on the window's Cholesky columns.
  if (sim_.kind() == SimilarityKind::kCosine) {
    for (int i = 0; i < n; ++i) acc[i] = 0.5f + 0.5f * sim_row[i];
  } else {
    std::copy(sim_row, sim_row + n, acc);
  }
  const int m = t - left;
  for (int j = 0; j < m; ++j) {
    const float* row = chol + static_cast<int64_t>(left + j) * n;
    ws.chol_rows[static_cast<size_t>(j)] = row;
    ws.chol_coef[static_cast<size_t>(j)] = row[pos];
  }
  kernels::sub_combination(ws.chol_rows.data(), ws.chol_coef.data(), m, acc, n);
  const float d = std::sqrt(r[pos]);
  kernels::chol_column(acc, 1.f / d, chol + static_cast<int64_t>(t) * n, r, n);
  ws.chol_pos[static_cast<size_t>(t)] = pos;
  ws.chol_count = t + 1;
  if (window_ > 0 && ws.chol_count - ws.chol_left >= window_) drop_oldest(n, ws);
}

// Removes the oldest window item (Chen et al., Algorithm 2): Givens rotations make the factor of
// the remaining window lower-triangular again; the removed column's entries return to the
// residuals (rotations preserve each candidate's squared norm).
void DppReranker::drop_oldest(int n, Workspace& ws) const {
  float* chol = ws.chol.data();
  const int old = ws.chol_left;
  float* old_row = chol + static_cast<int64_t>(old) * n;
  for (int ind = old + 1; ind < ws.chol_count; ++ind) {
    float* row = chol + static_cast<int64_t>(ind) * n;
    const int p = ws.chol_pos[static_cast<size_t>(ind)];
    const double a = row[p], b = old_row[p];  // V[ind][ind], V[ind][old]
    const double h = std::hypot(a, b);
    if (!(h > 0)) continue;
    kernels::rotate(static_cast<float>(a / h), static_cast<float>(b / h), row, old_row, n);
  }
  float* r = ws.resid.data();
  for (int i = 0; i < n; ++i) r[i] += old_row[i] * old_row[i];
  ws.chol_left = old + 1;
}

}  // namespace divrec::eval
