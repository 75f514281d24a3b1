// Float kernels: the portable loops and the dispatch, which picks the AVX2+FMA builds
// (kernels_avx2.cpp) once, at first use, when the CPU has them.
#include "eval/rerank/kernels.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "eval/rerank/kernels_avx2.h"

namespace divrec::eval::kernels {
namespace {

#define DIVREC_INLINE inline __attribute__((always_inline))

// ---- bodies shared by both builds ----

DIVREC_INLINE void project_out_body(const float* __restrict s, float a, float b,
                                    const float* const* x, const float* coef, int m,
                                    float* __restrict y, int n) {
  for (int i = 0; i < n; ++i) y[i] = a + b * s[i];
  for (int r = 0; r < m; ++r) {
    const float* __restrict xr = x[r];
    const float c = coef[r];
    for (int i = 0; i < n; ++i) y[i] -= c * xr[i];
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
  for (int i = 0; i < n; ++i) {  // both sides computed: a blend, so the loop vectorises
    const float a = q2[i] * resid[i], b = rel[i] - 2.f;
    gain[i] = resid[i] > eps ? a : b;
  }
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
DIVREC_INLINE void dot_portable_body(const float* q, int64_t dim, int n, float* out, RowOf row_of) {
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
void dot_rows_portable(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
                       float* out) {
  dot_portable_body(q, dim, n, out,
                    [&](int i) { return table + static_cast<int64_t>(rows[i]) * dim; });
}
void dot_block_portable(const float* q, const float* block, int64_t dim, int n, float* out) {
  dot_portable_body(q, dim, n, out, [&](int i) { return block + static_cast<int64_t>(i) * dim; });
}
void project_out_portable(const float* s, float a, float b, const float* const* x,
                          const float* coef, int m, float* y, int n) {
  project_out_body(s, a, b, x, coef, m, y, n);
}
void set_where_equal_portable(const int32_t* ids, int32_t id, float value, float* out, int n) {
  for (int i = 0; i < n; ++i) {
    if (ids[i] == id) out[i] = value;
  }
}
void chol_column_portable(const float* acc, float inv_d, float* e, float* resid, int n) {
  chol_column_body(acc, inv_d, e, resid, n);
}
void rotate_portable(float c, float s, float* x, float* y, int n) { rotate_body(c, s, x, y, n); }
void max_portable(const float* x, float* y, int n) { max_body(x, y, n); }
void shifted_residual_portable(const float* dot, float shift, float scale, float* resid, int n) {
  for (int i = 0; i < n; ++i) {
    const float e = (dot[i] + shift) * scale;
    resid[i] -= e * e;
  }
}
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

struct Impl {
  decltype(&dot_rows_portable) dot_rows;
  decltype(&dot_block_portable) dot_block;
  decltype(&dpp_gains_portable) dpp_gains;
  decltype(&max_value_portable) max_value;
  decltype(&argmax_portable) argmax;
  decltype(&project_out_portable) project_out;
  decltype(&set_where_equal_portable) set_where_equal;
  decltype(&shifted_residual_portable) shifted_residual;
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
    return {avx2::dot_rows_avx2,
            avx2::dot_block_avx2,
            avx2::dpp_gains_avx2,
            avx2::max_value_avx2,
            avx2::argmax_avx2,
            avx2::project_out_avx2,
            avx2::set_where_equal_avx2,
            avx2::shifted_residual_avx2,
            avx2::chol_column_avx2,
            avx2::rotate_avx2,
            avx2::max_avx2,
            true};
  }
  return {dot_rows_portable,
          dot_block_portable,
          dpp_gains_portable,
          max_value_portable,
          argmax_portable,
          project_out_portable,
          set_where_equal_portable,
          shifted_residual_portable,
          chol_column_portable,
          rotate_portable,
          max_portable,
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
void project_out(const float* s, float a, float b, const float* const* x, const float* coef, int m,
                 float* y, int n) {
  impl().project_out(s, a, b, x, coef, m, y, n);
}
void set_where_equal(const int32_t* ids, int32_t id, float value, float* out, int n) {
  impl().set_where_equal(ids, id, value, out, n);
}
void shifted_residual(const float* dot, float shift, float scale, float* resid, int n) {
  impl().shifted_residual(dot, shift, scale, resid, n);
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
void project_out(const float* s, float a, float b, const float* const* x, const float* coef, int m,
                 float* y, int n) {
  project_out_portable(s, a, b, x, coef, m, y, n);
}
void dpp_gains(const float* q2, const float* resid, const float* rel, float eps, float* gain,
               int n) {
  dpp_gains_portable(q2, resid, rel, eps, gain, n);
}
float max_value(const float* v, int n) { return max_value_portable(v, n); }
void rotate(float c, float s, float* x, float* y, int n) { rotate_portable(c, s, x, y, n); }
int argmax(const float* v, int n) { return argmax_portable(v, n); }
}  // namespace portable

}  // namespace divrec::eval::kernels
