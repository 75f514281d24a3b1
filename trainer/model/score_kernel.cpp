// The scoring kernel's driver (see score_kernel.h): the panel re-layout (and bf16 rounding) at
// load, the portable tile, run-time ISA choice, and the per-user running top-N. Each thread owns
// a contiguous range of users and sweeps every item block for them in ascending item order.
#include "trainer/model/score_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/check.h"
#include "core/huge_pages.h"
#include "trainer/model/running_top.h"
#include "trainer/model/score_kernel_simd.h"

namespace divrec::model {

static_assert(kScorePanel == simd::kPanelItems, "one panel width for the driver and the tiles");

namespace {

// Round-to-nearest-even fp32 -> bf16 (values are finite model outputs; NaN stays NaN).
uint16_t to_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) {  // inf stays inf; NaN stays NaN (quiet bit set)
    return static_cast<uint16_t>((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u));
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

// The portable tile: the same roundings as the SIMD builds (std::fma is exactly rounded).
template <class T, class Widen>
void tile_scalar(const float* users, int nu, int64_t D, const T* panels, int64_t p0, int64_t p1,
                 float* tile, int64_t ld, Widen widen) {
  for (int u = 0; u < nu; ++u) {
    const float* user = users + u * D;
    for (int64_t p = p0; p < p1; ++p) {
      const T* panel = panels + p * D * kScorePanel;
      float acc[kScorePanel] = {};
      for (int64_t d = 0; d < D; ++d) {
        const T* row = panel + d * kScorePanel;
        for (int64_t l = 0; l < kScorePanel; ++l) acc[l] = std::fma(user[d], widen(row[l]), acc[l]);
      }
      std::copy_n(acc, kScorePanel, tile + u * ld + (p - p0) * kScorePanel);
    }
  }
}

void tile_f32_scalar(const float* users, int nu, int64_t D, const float* panels, int64_t p0,
                     int64_t p1, float* tile, int64_t ld) {
  tile_scalar(users, nu, D, panels, p0, p1, tile, ld, [](float x) { return x; });
}
void tile_bf16_scalar(const float* users, int nu, int64_t D, const uint16_t* panels, int64_t p0,
                      int64_t p1, float* tile, int64_t ld) {
  tile_scalar(users, nu, D, panels, p0, p1, tile, ld, from_bf16);
}

// One user's running top-n (running_top.h), minus the user's excluded items.
struct UserTop : RunningTopN {
  std::vector<int32_t> excluded;  // sorted, unique
  void offer(ScoredItem e, int64_t n) {
    if (std::binary_search(excluded.begin(), excluded.end(), e.item)) return;
    RunningTopN::offer(e, n);
  }
};

struct Tiles {
  simd::TileF32 f32;
  simd::TileBf16 bf16;
  int users;  // users per tile call (a multiple of the build's register group)
};

Tiles tiles_for(ScoreIsa isa) {
  switch (isa) {
    case ScoreIsa::kAvx512:
      return {simd::tile_f32_avx512, simd::tile_bf16_avx512, 12};
    case ScoreIsa::kAvx2:
      return {simd::tile_f32_avx2, simd::tile_bf16_avx2, 12};
    default:
      return {tile_f32_scalar, tile_bf16_scalar, 4};
  }
}

}  // namespace

ScorePrecision parse_score_precision(const std::string& name, const std::string& option) {
  if (name == "fp32") return ScorePrecision::kFp32;
  if (name == "bf16") return ScorePrecision::kBf16;
  DIVREC_FAIL(option, ": unknown score precision '", name, "'; valid: fp32, bf16");
}

const char* score_precision_name(ScorePrecision p) {
  return p == ScorePrecision::kBf16 ? "bf16" : "fp32";
}

bool score_isa_supported(ScoreIsa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case ScoreIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
    case ScoreIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

ScoreIsa best_score_isa() {
  static const ScoreIsa best = [] {
    const char* cap = std::getenv("DIVREC_SCORE_ISA");
    const std::string c = cap ? cap : "";
    if (c != "scalar" && c != "avx2" && score_isa_supported(ScoreIsa::kAvx512)) {
      return ScoreIsa::kAvx512;
    }
    if (c != "scalar" && score_isa_supported(ScoreIsa::kAvx2)) return ScoreIsa::kAvx2;
    return ScoreIsa::kScalar;
  }();
  return best;
}

const char* score_isa_name(ScoreIsa isa) {
  switch (isa) {
    case ScoreIsa::kAvx512:
      return "avx512";
    case ScoreIsa::kAvx2:
      return "avx2";
    case ScoreIsa::kScalar:
      return "scalar";
    default:
      return "auto";
  }
}

void ScoreTable::Free::operator()(void* p) const { std::free(p); }

ScoreTable::ScoreTable(const float* items, int64_t num_items, int64_t dim, ScorePrecision precision)
    : num_items_(num_items), dim_(dim), precision_(precision) {
  DIVREC_CHECK(num_items > 0 && dim > 0, "score table: needs items and dims, got [", num_items,
               ", ", dim, "]");
  DIVREC_CHECK(num_items <= std::numeric_limits<int32_t>::max(),
               "score table: item ids are int32; ", num_items, " items");
  const size_t values = static_cast<size_t>(num_panels() * dim * kScorePanel);
  const size_t elem = precision == ScorePrecision::kBf16 ? 2 : 4;
  bytes_ = (values * elem + 63) / 64 * 64;
  void* raw = core::alloc_huge(bytes_);  // 2 MiB aligned (>= the kernel's 64), huge pages
  data_ = std::shared_ptr<void>(raw, Free{});
  // Padding items of the last panel score 0 and are skipped; every other value is written below
  // (each page is touched once, by the thread that fills it).
  const size_t panel_bytes = static_cast<size_t>(dim * kScorePanel) * elem;
  std::memset(static_cast<char*>(raw) + (num_panels() - 1) * panel_bytes, 0,
              bytes_ - (num_panels() - 1) * panel_bytes);
  // [I, D] -> [P][D][32]: item i, value d at ((i / 32) * D + d) * 32 + i % 32.
  at::parallel_for(0, num_panels(), 64, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t i_end = std::min(num_items, (p + 1) * kScorePanel);
      for (int64_t i = p * kScorePanel; i < i_end; ++i) {
        const float* src = items + i * dim;
        const size_t base = static_cast<size_t>(p * dim * kScorePanel + i % kScorePanel);
        if (precision == ScorePrecision::kBf16) {
          auto* dst = static_cast<uint16_t*>(raw) + base;
          for (int64_t d = 0; d < dim; ++d) dst[d * kScorePanel] = to_bf16(src[d]);
        } else {
          auto* dst = static_cast<float*>(raw) + base;
          for (int64_t d = 0; d < dim; ++d) dst[d * kScorePanel] = src[d];
        }
      }
    }
  });
}

void ScoreTable::row(int64_t item, float* out) const {
  DIVREC_CHECK(item >= 0 && item < num_items_, "score table: item ", item, " is outside [0, ",
               num_items_, ")");
  // Item i, value d at ((i / 32) * D + d) * 32 + i % 32 (the constructor's layout).
  const size_t base =
      static_cast<size_t>((item / kScorePanel) * dim_ * kScorePanel + item % kScorePanel);
  if (precision_ == ScorePrecision::kBf16) {
    for (int64_t d = 0; d < dim_; ++d) out[d] = from_bf16(bf16()[base + d * kScorePanel]);
  } else {
    for (int64_t d = 0; d < dim_; ++d) out[d] = f32()[base + d * kScorePanel];
  }
}

void score_top_n(const ScoreTable& table, const float* users, int64_t B, int64_t n,
                 const ExcludeList* exclude, const ScoreOptions& opt, TopN& out) {
  DIVREC_CHECK(table.num_items() > 0, "score_top_n: empty score table");
  DIVREC_CHECK(opt.user_block >= 1 && opt.item_block >= 1 && opt.threads >= 1,
               "score_top_n: user_block, item_block and threads must be >= 1, got ", opt.user_block,
               ", ", opt.item_block, ", ", opt.threads);
  DIVREC_CHECK(B >= 0 && n >= 0, "score_top_n: B and n must be >= 0, got ", B, ", ", n);
  const ScoreIsa isa = opt.isa == ScoreIsa::kAuto ? best_score_isa() : opt.isa;
  DIVREC_CHECK(score_isa_supported(isa), "score_top_n: this CPU lacks ", score_isa_name(isa));
  const int64_t I = table.num_items(), D = table.dim(), P = table.num_panels();
  const int64_t N = std::min(n, I);
  out.n = N;
  out.items.assign(static_cast<size_t>(B * N), -1);
  out.scores.assign(static_cast<size_t>(B * N), 0.f);
  out.count.assign(static_cast<size_t>(B), 0);
  if (B == 0 || N == 0) return;
  const Tiles tiles = tiles_for(isa);
  const bool bf16 = table.precision() == ScorePrecision::kBf16;
  const int64_t chunk = std::max<int64_t>(1, (opt.item_block + kScorePanel - 1) / kScorePanel);
  const int64_t ld = chunk * kScorePanel;
  const int64_t T = std::min<int64_t>(opt.threads, B);

  at::parallel_for(0, T, 1, [&](int64_t t_begin, int64_t t_end) {
    std::vector<float> tile(static_cast<size_t>(tiles.users * ld));
    std::vector<UserTop> tops;
    for (int64_t t = t_begin; t < t_end; ++t) {
      for (int64_t b0 = t * B / T, b_end = (t + 1) * B / T; b0 < b_end; b0 += opt.user_block) {
        const int64_t nb = std::min(opt.user_block, b_end - b0);
        tops.resize(static_cast<size_t>(nb));
        for (int64_t j = 0; j < nb; ++j) {
          auto& top = tops[static_cast<size_t>(j)];
          top.heap.clear();
          top.heap.reserve(static_cast<size_t>(N));
          top.excluded.clear();
          if (exclude) {
            const ExcludeList& e = exclude[b0 + j];
            top.excluded.assign(e.ids, e.ids + e.n);
            std::sort(top.excluded.begin(), top.excluded.end());
            top.excluded.erase(std::unique(top.excluded.begin(), top.excluded.end()),
                               top.excluded.end());
          }
        }
        for (int64_t p0 = 0; p0 < P; p0 += chunk) {  // ascending items for every user
          const int64_t p1 = std::min(P, p0 + chunk);
          for (int64_t g = 0; g < nb; g += tiles.users) {
            const int nu = static_cast<int>(std::min<int64_t>(tiles.users, nb - g));
            const float* us = users + (b0 + g) * D;
            if (bf16) {
              tiles.bf16(us, nu, D, table.bf16(), p0, p1, tile.data(), ld);
            } else {
              tiles.f32(us, nu, D, table.f32(), p0, p1, tile.data(), ld);
            }
            for (int u = 0; u < nu; ++u) {
              UserTop& top = tops[static_cast<size_t>(g + u)];
              const float* row = tile.data() + u * ld;
              for (int64_t p = p0; p < p1; ++p) {
                const float* s = row + (p - p0) * kScorePanel;
                const float thr = top.threshold(N);
                bool any = false;  // vectorisable pre-filter: most panels hold no candidate
                for (int64_t l = 0; l < kScorePanel; ++l) any |= s[l] >= thr;
                if (!any) continue;
                const int64_t i_end = std::min<int64_t>(kScorePanel, I - p * kScorePanel);
                for (int64_t l = 0; l < i_end; ++l) {
                  if (s[l] >= top.threshold(N)) {
                    top.offer({s[l], static_cast<int32_t>(p * kScorePanel + l)}, N);
                  }
                }
              }
            }
          }
        }
        for (int64_t j = 0; j < nb; ++j) {
          auto& heap = tops[static_cast<size_t>(j)].heap;
          std::sort(heap.begin(), heap.end(), ranks_before);
          const int64_t b = b0 + j;
          for (size_t r = 0; r < heap.size(); ++r) {
            out.items[static_cast<size_t>(b * N) + r] = heap[r].item;
            out.scores[static_cast<size_t>(b * N) + r] = heap[r].score;
          }
          out.count[static_cast<size_t>(b)] = static_cast<int>(heap.size());
        }
      }
    }
  });
}

}  // namespace divrec::model
