// Float kernels: portable loops (vectorised by the compiler at -O3) plus AVX2+FMA builds of the
// same bodies, picked once at first use. The dot products use explicit intrinsics because the
// compiler will not reorder float reductions on its own.
#include "eval/rerank/kernels.h"

#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace divrec::eval::kernels {
namespace {

#define DIVREC_INLINE inline __attribute__((always_inline))
#define DIVREC_AVX2 __attribute__((target("avx2,fma")))

// ---- bodies shared by both builds ----

DIVREC_INLINE void sub_combination_body(const float* const* x, const float* coef, int m,
                                        float* __restrict y, int n) {
  int r = 0;
  // Four rows per pass: one load/store of y per four multiply-adds.
  for (; r + 4 <= m; r += 4) {
    const float* __restrict x0 = x[r];
    const float* __restrict x1 = x[r + 1];
    const float* __restrict x2 = x[r + 2];
    const float* __restrict x3 = x[r + 3];
    float c0 = coef[r], c1 = coef[r + 1], c2 = coef[r + 2], c3 = coef[r + 3];
    for (int i = 0; i < n; ++i) y[i] -= (c0 * x0[i] + c1 * x1[i]) + (c2 * x2[i] + c3 * x3[i]);
  }
  for (; r < m; ++r) {
    const float* __restrict x0 = x[r];
    float c0 = coef[r];
    for (int i = 0; i < n; ++i) y[i] -= c0 * x0[i];
  }
}

DIVREC_INLINE void chol_column_body(const float* __restrict acc, float inv_d, float* __restrict e,
                                    float* __restrict resid, int n) {
  for (int i = 0; i < n; ++i) {
    float v = acc[i] * inv_d;
    e[i] = v;
    resid[i] -= v * v;
  }
}

DIVREC_INLINE void rotate_body(float c, float s, float* __restrict x, float* __restrict y, int n) {
  for (int i = 0; i < n; ++i) {
    float a = x[i], b = y[i];
    x[i] = c * a + s * b;
    y[i] = c * b - s * a;
  }
}

DIVREC_INLINE void max_body(const float* __restrict x, float* __restrict y, int n) {
  for (int i = 0; i < n; ++i) y[i] = x[i] > y[i] ? x[i] : y[i];
}

DIVREC_INLINE void dpp_gains_body(const float* __restrict q2, const float* __restrict resid,
                                   const float* __restrict rel, float eps, float* __restrict gain,
                                   int n) {
  for (int i = 0; i < n; ++i) gain[i] = resid[i] > eps ? q2[i] * resid[i] : rel[i] - 2.f;
}

DIVREC_INLINE float max_value_body(const float* __restrict v, int n) {
  float m[8];
  for (int l = 0; l < 8; ++l) m[l] = -INFINITY;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) m[l] = v[i + l] > m[l] ? v[i + l] : m[l];
  }
  float r = -INFINITY;
  for (int l = 0; l < 8; ++l) r = m[l] > r ? m[l] : r;
  for (; i < n; ++i) r = v[i] > r ? v[i] : r;
  return r;
}

// ---- portable builds ----

// out[i] = <q, row_of(i)>, 8 partial sums per candidate.
template <typename RowOf>
DIVREC_INLINE void dot_portable_body(const float* q, int64_t dim, int n, float* out,
                                     RowOf row_of) {
  for (int i = 0; i < n; ++i) {
    const float* b = row_of(i);
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t d = 0;
    for (; d + 8 <= dim; d += 8) {
      for (int l = 0; l < 8; ++l) acc[l] += q[d + l] * b[d + l];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; d < dim; ++d) s += q[d] * b[d];
    out[i] = s;
  }
}
void dot_rows_portable(const float* q, const float* table, int64_t dim, const int32_t* rows,
                       int n, float* out) {
  dot_portable_body(q, dim, n, out,
                    [&](int i) { return table + static_cast<int64_t>(rows[i]) * dim; });
}
void dot_block_portable(const float* q, const float* block, int64_t dim, int n, float* out) {
  dot_portable_body(q, dim, n, out, [&](int i) { return block + static_cast<int64_t>(i) * dim; });
}
void sub_combination_portable(const float* const* x, const float* coef, int m, float* y, int n) {
  sub_combination_body(x, coef, m, y, n);
}
void chol_column_portable(const float* acc, float inv_d, float* e, float* resid, int n) {
  chol_column_body(acc, inv_d, e, resid, n);
}
void rotate_portable(float c, float s, float* x, float* y, int n) { rotate_body(c, s, x, y, n); }
void max_portable(const float* x, float* y, int n) { max_body(x, y, n); }
void dpp_gains_portable(const float* q2, const float* resid, const float* rel, float eps,
                        float* gain, int n) {
  dpp_gains_body(q2, resid, rel, eps, gain, n);
}
float max_value_portable(const float* v, int n) { return max_value_body(v, n); }
int argmax_portable(const float* v, int n) {
  int best = -1;
  for (int i = 0; i < n; ++i) {
    if (best < 0 ? v[i] > -INFINITY : v[i] > v[best]) best = i;
  }
  return best;
}

// ---- AVX2 + FMA builds ----

DIVREC_AVX2 inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  __m256 ab = _mm256_hadd_ps(a, b);  // per lane: a01 a23 b01 b23
  __m256 cd = _mm256_hadd_ps(c, d);
  __m256 abcd = _mm256_hadd_ps(ab, cd);  // per lane: a b c d (half sums)
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// Four candidates per pass share each load of q; the tail of dim (< 8) is scalar. A lone
// candidate uses the same reduction order, so a value never depends on its position.
template <typename RowOf>
DIVREC_AVX2 DIVREC_INLINE void dot_avx2_body(const float* q, int64_t dim, int n, float* out,
                                             RowOf row_of) {
  const int64_t dv = dim & ~int64_t{7};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* b0 = row_of(i);
    const float* b1 = row_of(i + 1);
    const float* b2 = row_of(i + 2);
    const float* b3 = row_of(i + 3);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t d = 0; d < dv; d += 8) {
      __m256 qv = _mm256_loadu_ps(q + d);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(b0 + d), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(b1 + d), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(b2 + d), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(b3 + d), a3);
    }
    __m128 s = hsum4(a0, a1, a2, a3);
    if (dv < dim) {
      float t[4] = {0, 0, 0, 0};
      for (int64_t d = dv; d < dim; ++d) {
        t[0] += q[d] * b0[d];
        t[1] += q[d] * b1[d];
        t[2] += q[d] * b2[d];
        t[3] += q[d] * b3[d];
      }
      s = _mm_add_ps(s, _mm_loadu_ps(t));
    }
    _mm_storeu_ps(out + i, s);
  }
  for (; i < n; ++i) {
    const float* b = row_of(i);
    __m256 a = _mm256_setzero_ps();
    for (int64_t d = 0; d < dv; d += 8) {
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(b + d), a);
    }
    float s = _mm_cvtss_f32(hsum4(a, a, a, a));
    float t = 0;
    for (int64_t d = dv; d < dim; ++d) t += q[d] * b[d];
    out[i] = s + t;
  }
}
DIVREC_AVX2 void dot_rows_avx2(const float* q, const float* table, int64_t dim,
                               const int32_t* rows, int n, float* out) {
  dot_avx2_body(q, dim, n, out,
                [&](int i) { return table + static_cast<int64_t>(rows[i]) * dim; });
}
DIVREC_AVX2 void dot_block_avx2(const float* q, const float* block, int64_t dim, int n,
                                float* out) {
  dot_avx2_body(q, dim, n, out, [&](int i) { return block + static_cast<int64_t>(i) * dim; });
}
DIVREC_AVX2 void sub_combination_avx2(const float* const* x, const float* coef, int m, float* y,
                                      int n) {
  sub_combination_body(x, coef, m, y, n);
}
DIVREC_AVX2 void chol_column_avx2(const float* acc, float inv_d, float* e, float* resid, int n) {
  chol_column_body(acc, inv_d, e, resid, n);
}
DIVREC_AVX2 void rotate_avx2(float c, float s, float* x, float* y, int n) {
  rotate_body(c, s, x, y, n);
}
DIVREC_AVX2 void max_avx2(const float* x, float* y, int n) { max_body(x, y, n); }
DIVREC_AVX2 void dpp_gains_avx2(const float* q2, const float* resid, const float* rel, float eps,
                                float* gain, int n) {
  dpp_gains_body(q2, resid, rel, eps, gain, n);
}
DIVREC_AVX2 float max_value_avx2(const float* v, int n) { return max_value_body(v, n); }
// First index of the maximum: a vector max, then the first lane equal to it.
DIVREC_AVX2 int argmax_avx2(const float* v, int n) {
  const float m = max_value_body(v, n);
  if (!(m > -INFINITY)) return -1;
  const __m256 mv = _mm256_set1_ps(m);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + i), mv, _CMP_EQ_OQ));
    if (mask != 0) return i + __builtin_ctz(static_cast<unsigned>(mask));
  }
  for (; i < n; ++i) {
    if (v[i] == m) return i;
  }
  return -1;
}

struct Impl {
  decltype(&dot_rows_portable) dot_rows;
  decltype(&dot_block_portable) dot_block;
  decltype(&dpp_gains_portable) dpp_gains;
  decltype(&max_value_portable) max_value;
  decltype(&argmax_portable) argmax;
  decltype(&sub_combination_portable) sub_combination;
  decltype(&chol_column_portable) chol_column;
  decltype(&rotate_portable) rotate;
  decltype(&max_portable) max;
  bool avx2;
};

Impl choose() {
  const char* off = std::getenv("DIVREC_NO_AVX2");
  bool forced_off = off != nullptr && std::strcmp(off, "0") != 0 && off[0] != '\0';
  __builtin_cpu_init();
  if (!forced_off && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {dot_rows_avx2,     dot_block_avx2,       dpp_gains_avx2,   max_value_avx2,
            argmax_avx2,       sub_combination_avx2, chol_column_avx2, rotate_avx2,
            max_avx2,          true};
  }
  return {dot_rows_portable,     dot_block_portable,       dpp_gains_portable,
          max_value_portable,    argmax_portable,          sub_combination_portable,
          chol_column_portable,  rotate_portable,          max_portable,
          false};
}

const Impl& impl() {
  static const Impl chosen = choose();  // thread-safe one-time init
  return chosen;
}

}  // namespace

void dot_rows(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
              float* out) {
  impl().dot_rows(q, table, dim, rows, n, out);
}
void dot_block(const float* q, const float* block, int64_t dim, int n, float* out) {
  impl().dot_block(q, block, dim, n, out);
}
void dpp_gains(const float* q2, const float* resid, const float* rel, float eps, float* gain,
               int n) {
  impl().dpp_gains(q2, resid, rel, eps, gain, n);
}
float max_value(const float* v, int n) { return impl().max_value(v, n); }
int argmax(const float* v, int n) { return impl().argmax(v, n); }
void sub_combination(const float* const* x, const float* coef, int m, float* y, int n) {
  impl().sub_combination(x, coef, m, y, n);
}
void chol_column(const float* acc, float inv_d, float* e, float* resid, int n) {
  impl().chol_column(acc, inv_d, e, resid, n);
}
void rotate(float c, float s, float* x, float* y, int n) { impl().rotate(c, s, x, y, n); }
void max_inplace(const float* x, float* y, int n) { impl().max(x, y, n); }
bool using_avx2() { return impl().avx2; }

namespace portable {
void dot_rows(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
              float* out) {
  dot_rows_portable(q, table, dim, rows, n, out);
}
void sub_combination(const float* const* x, const float* coef, int m, float* y, int n) {
  sub_combination_portable(x, coef, m, y, n);
}
void rotate(float c, float s, float* x, float* y, int n) { rotate_portable(c, s, x, y, n); }
int argmax(const float* v, int n) { return argmax_portable(v, n); }
}  // namespace portable

}  // namespace divrec::eval::kernels
