// score_items (see score_subset.h): gathers each item's column out of its [D][32] panel and sums
// with std::fma in d order -- the per-lane arithmetic of every tile of score_kernel.cpp.
#include "trainer/model/score_subset.h"

#include <cmath>
#include <cstring>

#include "core/check.h"

namespace divrec::model {

namespace {

float widen(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

template <class T, class Widen>
float dot_panel(const float* user, int64_t D, const T* panels, int32_t id, Widen widen_fn) {
  const T* col = panels + (id / kScorePanel) * D * kScorePanel + id % kScorePanel;
  float acc = 0.0f;
  for (int64_t d = 0; d < D; ++d) acc = std::fma(user[d], widen_fn(col[d * kScorePanel]), acc);
  return acc;
}

}  // namespace

void score_items(const ScoreTable& table, const float* user, const int32_t* ids, int64_t n,
                 float* out) {
  const int64_t I = table.num_items(), D = table.dim();
  for (int64_t j = 0; j < n; ++j) {
    DIVREC_CHECK(ids[j] >= 0 && ids[j] < I, "score_items: item ", ids[j],
                 " is outside the catalog [0, ", I, ")");
    out[j] = table.precision() == ScorePrecision::kBf16
                 ? dot_panel(user, D, table.bf16(), ids[j], widen)
                 : dot_panel(user, D, table.f32(), ids[j], [](float v) { return v; });
  }
}

}  // namespace divrec::model
