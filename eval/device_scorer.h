// Candidates on a device (divrec eval --device cuda): a block of users encoded in one batched
// call, scored with one product, history masked, top N by a stable sort (ties to the lower id,
// the CPU kernel's rule). cuBLAS sums in another order than score_kernel.h, so lists can differ
// from `divrec recommend`'s at near-ties: the bit-exact eval = serving guarantee is the CPU's.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/precision.h"
#include "trainer/model/score_kernel.h"
#include "trainer/model/seq_model.h"

namespace divrec::eval {

class DeviceScorer {
 public:
  // model: moved to `device` and put in eval mode. item_table: [I, D] float32 rows of
  // model->item_vectors() (copied to the device). causal: next-item model (else [MASK] is
  // appended after the history, as model::encode_history does). precision bf16: the encoder
  // and the score product run under autocast; scores are compared in fp32.
  DeviceScorer(model::SeqModel model, const torch::Tensor& item_table, bool causal,
               torch::Device device, model::Precision precision);

  // histories: B users' item ids (oldest first, n >= 1 each); the last max_len feed the model
  // and every one is excluded from the list. out: n candidates per user (out.items/scores
  // [B * n], out.count[b] <= n real ones), as model::score_top_n fills it. Throws on an empty
  // history or an item id outside [0, I).
  void top_n(const model::ExcludeList* histories, int64_t B, int64_t n, model::TopN& out);

  const torch::Device& device() const { return device_; }

 private:
  void top_n_chunk(const model::ExcludeList* histories, int64_t B, int64_t n, float* scores_out,
                   int32_t* items_out, int* count_out);

  model::SeqModel model_;
  torch::Tensor table_;  // [I, D] float32 on device_
  bool causal_;
  torch::Device device_;
  model::Precision precision_;
};

}  // namespace divrec::eval
