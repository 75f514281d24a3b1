// Inner loops of the scoring kernel (score_kernel.h), one per instruction set: a tile of users x
// panels of scores. score_kernel.cpp holds the portable version and picks one at run time; these
// are compiled with target attributes so the rest of the project needs no -mavx2/-mavx512f.
#pragma once

#include <cstdint>

namespace divrec::model::simd {

// Items per panel (== model::kScorePanel; kept here so this header needs nothing else).
inline constexpr int64_t kPanelItems = 32;

// tile[u * ld + (p - p0) * 32 + l] = score of user u (users[u * D .. + D)) and item p * 32 + l,
// for u < nu and panels p in [p0, p1): acc = +0, then acc = fma(user[d], item[d], acc) for
// d = 0..D-1 in order. panels: the ScoreTable layout ([P][D][32], 64-byte aligned).
using TileF32 = void (*)(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                         int64_t p1, float* tile, int64_t ld);
// The same over bf16 panels, each value widened to fp32 exactly (bits << 16) before its FMA.
using TileBf16 = void (*)(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                          int64_t p1, float* tile, int64_t ld);

void tile_f32_avx512(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                     int64_t p1, float* tile, int64_t ld);
void tile_bf16_avx512(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                      int64_t p1, float* tile, int64_t ld);
void tile_f32_avx2(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                   int64_t p1, float* tile, int64_t ld);
void tile_bf16_avx2(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                    int64_t p1, float* tile, int64_t ld);

}  // namespace divrec::model::simd
