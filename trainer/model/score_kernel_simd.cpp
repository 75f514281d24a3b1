// AVX-512 and AVX2 builds of the scoring tile (score_kernel_simd.h). Each SIMD lane is one item:
// the user's d-th value is broadcast and fused-multiply-added into the lane, d in order -- the
// scalar loop's exact sequence of roundings, so every build gives the same bits.
#include "trainer/model/score_kernel_simd.h"

// GCC 12 flags the self-initialised _mm512_undefined_*() inside its own AVX-512 intrinsics
// (cvtepu16, slli, extract) as maybe-uninitialized when they are inlined into target("avx512f")
// functions: a false positive in the headers, not in this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

namespace divrec::model::simd {

#define DIVREC_INLINE inline __attribute__((always_inline))
#define DIVREC_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define DIVREC_AVX2 __attribute__((target("avx2,fma")))

namespace {

// ---- AVX-512: up to 6 users x one panel (2 x 16 lanes) = 12 accumulators ----

struct F32x512 {
  using T = float;
  DIVREC_AVX512 static DIVREC_INLINE void load(const float* row, __m512& x0, __m512& x1) {
    x0 = _mm512_load_ps(row);
    x1 = _mm512_load_ps(row + 16);
  }
};

struct Bf16x512 {
  using T = uint16_t;
  DIVREC_AVX512 static DIVREC_INLINE void load(const uint16_t* row, __m512& x0, __m512& x1) {
    const __m512i raw = _mm512_load_si512(row);  // 32 x bf16
    const __m512i lo = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(raw));
    const __m512i hi = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(raw, 1));
    x0 = _mm512_castsi512_ps(_mm512_slli_epi32(lo, 16));  // exact widening
    x1 = _mm512_castsi512_ps(_mm512_slli_epi32(hi, 16));
  }
};

template <int NU, class Load>
DIVREC_AVX512 DIVREC_INLINE void group512(const float* users, int64_t D,
                                          const typename Load::T* panel, float* tile, int64_t ld) {
  __m512 a0[NU], a1[NU];
#pragma GCC unroll 6
  for (int u = 0; u < NU; ++u) a0[u] = a1[u] = _mm512_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    __m512 x0, x1;
    Load::load(panel + d * kPanelItems, x0, x1);
#pragma GCC unroll 6
    for (int u = 0; u < NU; ++u) {
      const __m512 w = _mm512_set1_ps(users[u * D + d]);
      a0[u] = _mm512_fmadd_ps(w, x0, a0[u]);
      a1[u] = _mm512_fmadd_ps(w, x1, a1[u]);
    }
  }
#pragma GCC unroll 6
  for (int u = 0; u < NU; ++u) {
    _mm512_storeu_ps(tile + u * ld, a0[u]);
    _mm512_storeu_ps(tile + u * ld + 16, a1[u]);
  }
}

template <class Load>
DIVREC_AVX512 void tile512(const float* users, int nu, int64_t D, const typename Load::T* panels,
                           int64_t p0, int64_t p1, float* tile, int64_t ld) {
  for (int u0 = 0; u0 < nu; u0 += 6) {
    const int m = std::min(6, nu - u0);
    const float* us = users + u0 * D;
    for (int64_t p = p0; p < p1; ++p) {
      const auto* panel = panels + p * D * kPanelItems;
      float* t = tile + u0 * ld + (p - p0) * kPanelItems;
      switch (m) {
        case 1: group512<1, Load>(us, D, panel, t, ld); break;
        case 2: group512<2, Load>(us, D, panel, t, ld); break;
        case 3: group512<3, Load>(us, D, panel, t, ld); break;
        case 4: group512<4, Load>(us, D, panel, t, ld); break;
        case 5: group512<5, Load>(us, D, panel, t, ld); break;
        default: group512<6, Load>(us, D, panel, t, ld); break;
      }
    }
  }
}

// ---- AVX2: up to 4 users x half a panel (2 x 8 lanes) = 8 accumulators ----

struct F32x256 {
  using T = float;
  DIVREC_AVX2 static DIVREC_INLINE void load(const float* row, __m256& x0, __m256& x1) {
    x0 = _mm256_load_ps(row);
    x1 = _mm256_load_ps(row + 8);
  }
};

struct Bf16x256 {
  using T = uint16_t;
  DIVREC_AVX2 static DIVREC_INLINE void load(const uint16_t* row, __m256& x0, __m256& x1) {
    const __m256i raw = _mm256_load_si256(reinterpret_cast<const __m256i*>(row));  // 16 x bf16
    const __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(raw));
    const __m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(raw, 1));
    x0 = _mm256_castsi256_ps(_mm256_slli_epi32(lo, 16));
    x1 = _mm256_castsi256_ps(_mm256_slli_epi32(hi, 16));
  }
};

template <int NU, class Load>
DIVREC_AVX2 DIVREC_INLINE void group256(const float* users, int64_t D,
                                        const typename Load::T* half, float* tile, int64_t ld) {
  __m256 a0[NU], a1[NU];
#pragma GCC unroll 4
  for (int u = 0; u < NU; ++u) a0[u] = a1[u] = _mm256_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    __m256 x0, x1;
    Load::load(half + d * kPanelItems, x0, x1);
#pragma GCC unroll 4
    for (int u = 0; u < NU; ++u) {
      const __m256 w = _mm256_set1_ps(users[u * D + d]);
      a0[u] = _mm256_fmadd_ps(w, x0, a0[u]);
      a1[u] = _mm256_fmadd_ps(w, x1, a1[u]);
    }
  }
#pragma GCC unroll 4
  for (int u = 0; u < NU; ++u) {
    _mm256_storeu_ps(tile + u * ld, a0[u]);
    _mm256_storeu_ps(tile + u * ld + 8, a1[u]);
  }
}

template <class Load>
DIVREC_AVX2 void tile256(const float* users, int nu, int64_t D, const typename Load::T* panels,
                         int64_t p0, int64_t p1, float* tile, int64_t ld) {
  for (int u0 = 0; u0 < nu; u0 += 4) {
    const int m = std::min(4, nu - u0);
    const float* us = users + u0 * D;
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t h = 0; h < kPanelItems; h += 16) {
        const auto* half = panels + p * D * kPanelItems + h;
        float* t = tile + u0 * ld + (p - p0) * kPanelItems + h;
        switch (m) {
          case 1: group256<1, Load>(us, D, half, t, ld); break;
          case 2: group256<2, Load>(us, D, half, t, ld); break;
          case 3: group256<3, Load>(us, D, half, t, ld); break;
          default: group256<4, Load>(us, D, half, t, ld); break;
        }
      }
    }
  }
}

}  // namespace

void tile_f32_avx512(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                     int64_t p1, float* tile, int64_t ld) {
  tile512<F32x512>(users, nu, D, panels, p0, p1, tile, ld);
}
void tile_bf16_avx512(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                      int64_t p1, float* tile, int64_t ld) {
  tile512<Bf16x512>(users, nu, D, panels, p0, p1, tile, ld);
}
void tile_f32_avx2(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                   int64_t p1, float* tile, int64_t ld) {
  tile256<F32x256>(users, nu, D, panels, p0, p1, tile, ld);
}
void tile_bf16_avx2(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                    int64_t p1, float* tile, int64_t ld) {
  tile256<Bf16x256>(users, nu, D, panels, p0, p1, tile, ld);
}

}  // namespace divrec::model::simd
