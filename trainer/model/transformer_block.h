// TransformerBlock: one pre-LN transformer layer (multi-head self-attention + GELU feed-forward)
// with explicit additive attention masks, written with batched matmuls so masking is visible.
// Per-token work runs on the real (non-padding) tokens only; attention scatters them into the
// padded [B, L] layout.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/config.h"

namespace divrec::model {

// Where the real tokens of a left-padded [B, L] batch sit, and the attention bias shared by all
// layers. Per-token layers (LayerNorm, projections, feed-forward, dropout) see only the N real
// tokens [N, D]; on Amazon Beauty at max_len 50 that is 17% of the padded positions.
struct TokenLayout {
  int64_t batch = 0;
  int64_t length = 0;
  torch::Tensor real_index;  // [N] int64 flat indices into B*L of the non-padding positions
  torch::Tensor bias;        // [B*H, L, L] additive attention bias (attention_bias below)
  bool dense() const { return real_index.size(0) == batch * length; }

  // key_is_pad: [B, L] bool, true at padding positions.
  static TokenLayout make(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                          torch::ScalarType dtype);
};

// Additive attention bias [B*H, L, L]: 0 where query i may attend key j, a large negative number
// where it may not (key j is padding, or j > i when causal). A large finite value instead of
// -inf keeps fully masked rows (padded queries) finite instead of NaN; those rows are dropped.
torch::Tensor attention_bias(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                             torch::ScalarType dtype);

// Checkpoint keys under one block: attn_norm.{weight,bias}, qkv.{weight [3D, D], bias [3D]},
// attn_out.{weight, bias}, ffn_norm.{weight,bias}, ffn_in.{weight [F, D], bias},
// ffn_out.{weight [D, F], bias}.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const ModelConfig& config);

  // x: [N, D] real tokens in layout.real_index order. Returns [N, D].
  torch::Tensor forward(const torch::Tensor& x, const TokenLayout& layout);

 private:
  torch::Tensor self_attention(const torch::Tensor& x, const TokenLayout& layout);

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
