// Exact scores of a given list of items (e.g. ANN candidates) with the same bits as the blocked
// kernel (score_kernel.h): one accumulator per item summed over d = 0..D-1 in order with fused
// multiply-add, bf16 values widened exactly. Re-scored candidates therefore rank exactly as the
// full-catalog scan would rank them.
#pragma once

#include <cstdint>

#include "trainer/model/score_kernel.h"

namespace divrec::model {

// out[j] = score of user [D] with item ids[j] (ids in [0, table.num_items()), else throws).
void score_items(const ScoreTable& table, const float* user, const int32_t* ids, int64_t n,
                 float* out);

}  // namespace divrec::model
