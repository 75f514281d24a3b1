// One user's vector from its history, computed one way for `divrec eval` and for the serving
// process (one user per model call), so both score it with bit-identical inputs. (A batched
// encoder pass cannot promise that: OpenBLAS picks kernels by matrix shape -- edge tiles, small-M
// paths -- so a user's vector would depend on its batch.)
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/seq_model.h"

namespace divrec::model {

// history: dense item ids in [0, I), oldest first, n >= 1; the last max_len are used, left-padded
// to max_len (the same [1, max_len] input whatever the history length). causal: next-item model;
// else masked-item (the oldest column is dropped and [MASK] appended, as user_vectors does).
// item_table: [I, D] float32 rows of model.item_vectors() -- computed once by the caller (eval)
// or the exported copy (serving; the same bits). Writes the user vector (D float32) to out; its
// scores come from the blocked kernel (score_kernel.h), so they do not depend on a batch either.
// The model must be in eval mode. table_ids (optional, int64 [R] sorted ascending, no
// duplicates): item_table then holds only those items' rows ([R, D]), and must include every
// encoded history item -- the same user vector, bit for bit, without a catalog-sized table
// (serving gathers a history's rows from its scoring panels).
void encode_history(SeqModelImpl& model, const torch::Tensor& item_table, bool causal,
                    const int32_t* history, int64_t n, float* out,
                    const torch::Tensor& table_ids = {});

}  // namespace divrec::model
