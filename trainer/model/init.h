// Weight initialisation shared by the model's modules: truncated normal (BERT style) for
// embeddings and linear weights, zero biases, LayerNorm ones/zeros.
#pragma once

#include <torch/torch.h>

namespace divrec::model {

// In-place N(0, std^2) truncated to [-2 std, 2 std] (inverse-CDF method, as torch.nn.init).
// gen: optional generator (default: torch's global one).
void trunc_normal_(torch::Tensor& t, double std, c10::optional<at::Generator> gen = c10::nullopt);
void init_linear(torch::nn::Linear& linear, double std);
// gain < 1 on the final norm keeps initial logits O(1) (see SeqModelImpl's constructor).
void init_layer_norm(torch::nn::LayerNorm& norm, double gain = 1.0);

}  // namespace divrec::model
