// Vectorised float kernels for the re-rankers' hot loops (similarity rows, Cholesky updates,
// Givens rotations). An AVX2+FMA version is chosen at run time when the CPU has it; the portable
// version gives the same results up to float rounding.
#pragma once

#include <cstdint>

namespace divrec::eval::kernels {

// out[i] = <q, table[rows[i] * dim .. + dim)> for i < n.
void dot_rows(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
              float* out);
// out[i] = <q, block[i * dim .. + dim)> for i < n (a contiguous block of rows; bit-identical to
// dot_rows over the same values).
void dot_block(const float* q, const float* block, int64_t dim, int n, float* out);
// DPP gains: q2[i] * resid[i] when resid[i] > eps, else rel[i] - 2 (exhausted: after the rest).
void dpp_gains(const float* q2, const float* resid, const float* rel, float eps, float* gain,
               int n);
// max of v[0..n) (-inf when n = 0; NaNs ignored).
float max_value(const float* v, int n);
// Index of the first maximum of v[0..n) that is > -inf, or -1 (NaNs ignored).
int argmax(const float* v, int n);
// y[i] = a + b s[i] - sum_r coef[r] x[r][i] for r < m, i < n: the DPP kernel row (an affine map
// of the similarity row) minus its projection on the Cholesky columns.
void project_out(const float* s, float a, float b, const float* const* x, const float* coef, int m,
                 float* y, int n);
// out[i] = value where ids[i] == id.
void set_where_equal(const int32_t* ids, int32_t id, float value, float* out, int n);
// e[i] = acc[i] * inv_d; resid[i] -= e[i]^2 (the DPP Cholesky column and residual update).
void chol_column(const float* acc, float inv_d, float* e, float* resid, int n);
// resid[i] -= ((dot[i] + shift) * scale)^2 (the DPP residual update in feature space).
void shifted_residual(const float* dot, float shift, float scale, float* resid, int n);
// Givens rotation of two rows: (x, y) <- (c x + s y, c y - s x).
void rotate(float c, float s, float* x, float* y, int n);
// y[i] = max(y[i], x[i]).
void max_inplace(const float* x, float* y, int n);
// Whether the AVX2 versions are in use (for benchmark reports). DIVREC_NO_AVX2=1 in the
// environment forces the portable versions.
bool using_avx2();

// The portable versions, always available (tests compare them with the dispatched ones).
namespace portable {
void dot_rows(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
              float* out);
void project_out(const float* s, float a, float b, const float* const* x, const float* coef, int m,
                 float* y, int n);
void dpp_gains(const float* q2, const float* resid, const float* rel, float eps, float* gain,
               int n);
float max_value(const float* v, int n);
void rotate(float c, float s, float* x, float* y, int n);
int argmax(const float* v, int n);
}  // namespace portable

}  // namespace divrec::eval::kernels
