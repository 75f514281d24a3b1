// One user's relevance scores over the whole catalog, computed one way for `divrec eval` and for
// the serving process, so both see bit-identical scores and therefore identical lists. (Batched
// scoring cannot promise that: OpenBLAS computes a GEMM row with different kernels depending on
// the matrix shape -- edge tiles, small-M paths -- so a user's scores would depend on its batch.)
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/seq_model.h"

namespace divrec::model {

// history: dense item ids in [0, I), oldest first, n >= 1; the last max_len are used, left-padded
// to max_len (the same [1, max_len] input whatever the history length). causal: next-item model;
// else masked-item (the oldest column is dropped and [MASK] appended, as user_vectors does).
// item_table: [I, D] float32 rows of model.item_vectors() -- computed once by the caller (eval)
// or the exported copy (serving; the same bits). Writes I scores to out; history items are not
// masked. The model must be in eval mode.
void score_history(SeqModelImpl& model, const torch::Tensor& item_table, bool causal,
                   const int32_t* history, int64_t n, float* out);

}  // namespace divrec::model
