// TransformerBlock: one pre-LN transformer layer (multi-head self-attention + GELU feed-forward)
// with explicit additive attention masks, written with batched matmuls so masking is visible.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/config.h"

namespace divrec::model {

// Additive attention bias [B*H, L, L] shared by all layers: 0 where query i may attend key j,
// a large negative number where it may not (key j is padding, or j > i when causal). A large
// finite value instead of -inf keeps fully masked rows (padded queries) finite: they get a
// uniform softmax instead of NaN, and their outputs are zeroed by the caller.
// key_is_pad: [B, L] bool, true at padding positions.
torch::Tensor attention_bias(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                             torch::ScalarType dtype);

// Checkpoint keys under one block: attn_norm.{weight,bias}, qkv.{weight [3D, D], bias [3D]},
// attn_out.{weight, bias}, ffn_norm.{weight,bias}, ffn_in.{weight [F, D], bias},
// ffn_out.{weight [D, F], bias}.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const ModelConfig& config);

  // x: [B, L, D]; bias: attention_bias(...) for the same B and L. Returns [B, L, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias);

 private:
  torch::Tensor self_attention(const torch::Tensor& x, const torch::Tensor& bias);

  int64_t dim_;
  int64_t heads_;
  double dropout_;
  double attn_dropout_;
  torch::nn::LayerNorm attn_norm_{nullptr};
  torch::nn::Linear qkv_{nullptr};
  torch::nn::Linear attn_out_{nullptr};
  torch::nn::LayerNorm ffn_norm_{nullptr};
  torch::nn::Linear ffn_in_{nullptr};
  torch::nn::Linear ffn_out_{nullptr};
};
TORCH_MODULE(TransformerBlock);

}  // namespace divrec::model
