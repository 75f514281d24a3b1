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
  if (features_) {
    const size_t f = static_cast<size_t>(sim_.dim()) + 1;
    grow(ws.basis, static_cast<size_t>(std::max(list.length, 1)) * f);
    grow(ws.dots, un);
  } else {
    grow(ws.chol, static_cast<size_t>(std::max(list.length, 1)) * un);
  }
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
  if (features_) {
    commit_features(list, pos, ws);
    return;
  }
  const int t = ws.chol_count;
  const int left = ws.chol_left;
  float* chol = ws.chol.data();
  float* acc = ws.acc.data();
  // The kernel row S(pos, .) (cosine: (1 + cos) / 2) minus its projection on the window's
  // Cholesky columns, in one pass.
  const bool cosine = sim_.kind() == SimilarityKind::kCosine;
  const int m = t - left;
  for (int j = 0; j < m; ++j) {
    const float* row = chol + static_cast<int64_t>(left + j) * n;
    ws.chol_rows[static_cast<size_t>(j)] = row;
    ws.chol_coef[static_cast<size_t>(j)] = row[pos];
  }
  kernels::project_out(sim_row, cosine ? 0.5f : 0.f, cosine ? 0.5f : 1.f, ws.chol_rows.data(),
                       ws.chol_coef.data(), m, acc, n);
  const float d = std::sqrt(r[pos]);
  kernels::chol_column(acc, 1.f / d, chol + static_cast<int64_t>(t) * n, r, n);
  ws.chol_pos[static_cast<size_t>(t)] = pos;
  ws.chol_count = t + 1;
  if (window_ > 0 && ws.chol_count - ws.chol_left >= window_) drop_oldest(n, ws);
}

// Feature space: S = B B^T, b_i = [1, v_i] / sqrt(2) (unit norm for unit v_i). The Cholesky
// column of the t-th pick over every candidate is e_i = <u_t, b_i>, where u_t is the pick's b
// orthonormalised against the earlier picks' u -- the same numbers as Chen et al.'s
// (S_ji - <c_j, c_i>) / d_j, with one D-long dot per candidate instead of a kernel entry plus a
// t-long projection, and no stored columns. Orthonormalisation is classical Gram-Schmidt done
// twice ("twice is enough"), each pass two small matrix-vector products.
void DppReranker::commit_features(const GreedyList& list, int pos, Workspace& ws) const {
  const int n = list.n;
  const int64_t dim = sim_.dim();
  const int64_t f = dim + 1;
  const int t = ws.chol_count;
  float* u = ws.basis.data() + t * f;
  const float h = static_cast<float>(std::sqrt(0.5));
  const float* v = ws.cand_vectors.data() + static_cast<int64_t>(pos) * dim;
  u[0] = h;
  for (int64_t d = 0; d < dim; ++d) u[1 + d] = h * v[d];
  float* w = ws.chol_coef.data();
  for (int pass = 0; pass < 2 && t > 0; ++pass) {
    kernels::dot_block(u, ws.basis.data(), f, t, w);  // w_r = <u_r, u>
    kernels::project_out(u, 0.f, 1.f, ws.chol_rows.data(), w, t, u, static_cast<int>(f));
  }
  float norm2 = 0;
  kernels::dot_block(u, u, f, 1, &norm2);
  if (!(norm2 > kDppEpsilon)) return;  // numerically in the span already
  const float inv = 1.f / std::sqrt(norm2);
  for (int64_t d = 0; d < f; ++d) u[d] *= inv;
  ws.chol_rows[static_cast<size_t>(t)] = u;
  // e_i = (u_0 + <u', v_i>) / sqrt(2); r_i -= e_i^2.
  kernels::dot_block(u + 1, ws.cand_vectors.data(), dim, n, ws.dots.data());
  kernels::shifted_residual(ws.dots.data(), u[0], h, ws.resid.data(), n);
  ws.chol_count = t + 1;
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
