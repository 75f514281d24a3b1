// AVX2 + FMA builds of the re-ranking kernels (explicit intrinsics), compiled with a target
// attribute so the rest of the project needs no -mavx2; kernels.cpp calls them only when the CPU
// has AVX2 and FMA. Same contracts as kernels.h.
#include "eval/rerank/kernels_avx2.h"

#include <immintrin.h>

#include <cmath>

namespace divrec::eval::kernels::avx2 {

#define DIVREC_INLINE inline __attribute__((always_inline))
#define DIVREC_AVX2 __attribute__((target("avx2,fma")))

namespace {

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
}  // namespace

DIVREC_AVX2 void dot_rows_avx2(const float* q, const float* table, int64_t dim, const int32_t* rows,
                               int n, float* out) {
  dot_avx2_body(q, dim, n, out, [&](int i) { return table + static_cast<int64_t>(rows[i]) * dim; });
}
DIVREC_AVX2 void dot_block_avx2(const float* q, const float* block, int64_t dim, int n,
                                float* out) {
  dot_avx2_body(q, dim, n, out, [&](int i) { return block + static_cast<int64_t>(i) * dim; });
}
// The remaining AVX2 kernels use explicit intrinsics: GCC leaves float compares, max and
// multi-row combinations scalar without -ffast-math.
DIVREC_AVX2 void project_out_avx2(const float* s, float a, float b, const float* const* x,
                                  const float* coef, int m, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b);
  int r = 0;
  // First pass: the affine start and up to four rows, written once.
  {
    const int take = m < 4 ? m : 4;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 acc = _mm256_fmadd_ps(bv, _mm256_loadu_ps(s + i), av);
      for (int j = 0; j < take; ++j) {
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(coef[j]), _mm256_loadu_ps(x[j] + i), acc);
      }
      _mm256_storeu_ps(y + i, acc);
    }
    for (; i < n; ++i) {
      float v = a + b * s[i];
      for (int j = 0; j < take; ++j) v -= coef[j] * x[j][i];
      y[i] = v;
    }
    r = take;
  }
  // Then eight rows per pass (one load/store of y per eight multiply-adds), then the rest.
  for (; r + 8 <= m; r += 8) {
    __m256 c[8];
    for (int j = 0; j < 8; ++j) c[j] = _mm256_set1_ps(coef[r + j]);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 acc = _mm256_loadu_ps(y + i);
      for (int j = 0; j < 8; ++j) acc = _mm256_fnmadd_ps(c[j], _mm256_loadu_ps(x[r + j] + i), acc);
      _mm256_storeu_ps(y + i, acc);
    }
    for (; i < n; ++i) {
      for (int j = 0; j < 8; ++j) y[i] -= coef[r + j] * x[r + j][i];
    }
  }
  for (; r < m; ++r) {
    const __m256 c = _mm256_set1_ps(coef[r]);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(y + i,
                       _mm256_fnmadd_ps(c, _mm256_loadu_ps(x[r] + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] -= coef[r] * x[r][i];
  }
}
DIVREC_AVX2 void chol_column_avx2(const float* acc, float inv_d, float* e, float* resid, int n) {
  const __m256 iv = _mm256_set1_ps(inv_d);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(acc + i), iv);
    _mm256_storeu_ps(e + i, v);
    _mm256_storeu_ps(resid + i, _mm256_fnmadd_ps(v, v, _mm256_loadu_ps(resid + i)));
  }
  for (; i < n; ++i) {
    const float v = acc[i] * inv_d;
    e[i] = v;
    resid[i] -= v * v;
  }
}
DIVREC_AVX2 void shifted_residual_avx2(const float* dot, float shift, float scale, float* resid,
                                       int n) {
  const __m256 sh = _mm256_set1_ps(shift), sc = _mm256_set1_ps(scale);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(dot + i), sh), sc);
    _mm256_storeu_ps(resid + i, _mm256_fnmadd_ps(e, e, _mm256_loadu_ps(resid + i)));
  }
  for (; i < n; ++i) {
    const float e = (dot[i] + shift) * scale;
    resid[i] -= e * e;
  }
}
DIVREC_AVX2 void rotate_avx2(float c, float s, float* x, float* y, int n) {
  const __m256 cv = _mm256_set1_ps(c), sv = _mm256_set1_ps(s);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(y + i);
    _mm256_storeu_ps(x + i, _mm256_fmadd_ps(cv, a, _mm256_mul_ps(sv, b)));
    _mm256_storeu_ps(y + i, _mm256_fnmadd_ps(sv, a, _mm256_mul_ps(cv, b)));
  }
  for (; i < n; ++i) {
    const float a = x[i], b = y[i];
    x[i] = c * a + s * b;
    y[i] = c * b - s * a;
  }
}
DIVREC_AVX2 void max_avx2(const float* x, float* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // max_ps(a, b) returns b when either is NaN: y keeps its value against a NaN x.
    _mm256_storeu_ps(y + i, _mm256_max_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] = x[i] > y[i] ? x[i] : y[i];
}
DIVREC_AVX2 void dpp_gains_avx2(const float* q2, const float* resid, const float* rel, float eps,
                                float* gain, int n) {
  const __m256 ev = _mm256_set1_ps(eps), two = _mm256_set1_ps(2.f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 r = _mm256_loadu_ps(resid + i);
    const __m256 live = _mm256_mul_ps(_mm256_loadu_ps(q2 + i), r);
    const __m256 dead = _mm256_sub_ps(_mm256_loadu_ps(rel + i), two);
    _mm256_storeu_ps(gain + i, _mm256_blendv_ps(dead, live, _mm256_cmp_ps(r, ev, _CMP_GT_OQ)));
  }
  for (; i < n; ++i) gain[i] = resid[i] > eps ? q2[i] * resid[i] : rel[i] - 2.f;
}
DIVREC_AVX2 float max_value_avx2(const float* v, int n) {
  __m256 m = _mm256_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_loadu_ps(v + i), m);  // NaN: keeps m
  float lanes[8];
  _mm256_storeu_ps(lanes, m);
  float r = -INFINITY;
  for (float x : lanes) r = x > r ? x : r;
  for (; i < n; ++i) r = v[i] > r ? v[i] : r;
  return r;
}
// First index of the maximum: a vector max, then the first lane equal to it.
DIVREC_AVX2 int argmax_avx2(const float* v, int n) {
  const float m = max_value_avx2(v, n);
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
DIVREC_AVX2 void set_where_equal_avx2(const int32_t* ids, int32_t id, float value, float* out,
                                      int n) {
  const __m256i idv = _mm256_set1_epi32(id);
  const __m256 vv = _mm256_set1_ps(value);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i eq =
        _mm256_cmpeq_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i)), idv);
    if (_mm256_movemask_epi8(eq) == 0) continue;
    _mm256_storeu_ps(out + i,
                     _mm256_blendv_ps(_mm256_loadu_ps(out + i), vv, _mm256_castsi256_ps(eq)));
  }
  for (; i < n; ++i) {
    if (ids[i] == id) out[i] = value;
  }
}

}  // namespace divrec::eval::kernels::avx2
