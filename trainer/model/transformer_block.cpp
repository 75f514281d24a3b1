// TransformerBlock: pre-LN self-attention + feed-forward (see transformer_block.h).
#include "trainer/model/transformer_block.h"

#include <cmath>

#include "core/check.h"
#include "trainer/model/init.h"

namespace divrec::model {

namespace {
// Large enough that exp(score - max) underflows to exactly 0 for a masked key next to any real
// one, small enough to stay finite in the dtype.
double masked_score(torch::ScalarType dtype) { return dtype == torch::kHalf ? -3.0e4 : -1.0e9; }
}  // namespace

torch::Tensor attention_bias(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                             torch::ScalarType dtype) {
  DIVREC_CHECK(key_is_pad.dim() == 2 && key_is_pad.scalar_type() == torch::kBool,
               "attention_bias: key_is_pad must be a [B, L] bool tensor, got ", key_is_pad.sizes());
  const int64_t b = key_is_pad.size(0);
  const int64_t l = key_is_pad.size(1);
  auto blocked = key_is_pad.unsqueeze(1).expand({b, l, l});  // [B, query, key]
  if (causal) {
    auto future = torch::ones({l, l}, key_is_pad.options()).triu(1);
    blocked = blocked | future.unsqueeze(0);
  }
  auto bias = torch::zeros({b, l, l}, key_is_pad.options().dtype(dtype))
                  .masked_fill(blocked, masked_score(dtype));
  return bias.unsqueeze(1).expand({b, heads, l, l}).reshape({b * heads, l, l});
}

TransformerBlockImpl::TransformerBlockImpl(const ModelConfig& config)
    : dim_(config.dim),
      heads_(config.heads),
      dropout_(config.dropout),
      attn_dropout_(config.attn_dropout) {
  DIVREC_CHECK(dim_ % heads_ == 0, "transformer block: dim ", dim_, " not divisible by heads ",
               heads_);
  const auto norm_opts = torch::nn::LayerNormOptions({dim_}).eps(config.layer_norm_eps);
  attn_norm_ = register_module("attn_norm", torch::nn::LayerNorm(norm_opts));
  qkv_ = register_module("qkv", torch::nn::Linear(dim_, 3 * dim_));
  attn_out_ = register_module("attn_out", torch::nn::Linear(dim_, dim_));
  ffn_norm_ = register_module("ffn_norm", torch::nn::LayerNorm(norm_opts));
  ffn_in_ = register_module("ffn_in", torch::nn::Linear(dim_, config.ffn_size()));
  ffn_out_ = register_module("ffn_out", torch::nn::Linear(config.ffn_size(), dim_));
  init_layer_norm(attn_norm_);
  init_layer_norm(ffn_norm_);
  init_linear(qkv_, config.init_std);
  init_linear(attn_out_, config.init_std);
  init_linear(ffn_in_, config.init_std);
  init_linear(ffn_out_, config.init_std);
}

torch::Tensor TransformerBlockImpl::self_attention(const torch::Tensor& x,
                                                   const torch::Tensor& bias) {
  const int64_t b = x.size(0);
  const int64_t l = x.size(1);
  const int64_t dh = dim_ / heads_;
  // One fused projection, then [B, L, 3, H, dh] -> [3, B, H, L, dh] -> three [B*H, L, dh].
  auto qkv = qkv_->forward(x).view({b, l, 3, heads_, dh}).permute({2, 0, 3, 1, 4});
  auto q = qkv[0].reshape({b * heads_, l, dh});
  auto k = qkv[1].reshape({b * heads_, l, dh});
  auto v = qkv[2].reshape({b * heads_, l, dh});
  auto scores = torch::baddbmm(bias, q, k.transpose(1, 2), /*beta=*/1.0,
                               /*alpha=*/1.0 / std::sqrt(static_cast<double>(dh)));
  auto probs = torch::softmax(scores, -1);
  probs = torch::dropout(probs, attn_dropout_, is_training());
  auto ctx = torch::bmm(probs, v);  // [B*H, L, dh]
  ctx = ctx.view({b, heads_, l, dh}).transpose(1, 2).reshape({b, l, dim_});
  return attn_out_->forward(ctx);
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& bias) {
  auto h = x + torch::dropout(self_attention(attn_norm_->forward(x), bias), dropout_,
                              is_training());
  auto f = torch::gelu(ffn_in_->forward(ffn_norm_->forward(h)));
  f = ffn_out_->forward(torch::dropout(f, dropout_, is_training()));
  return h + torch::dropout(f, dropout_, is_training());
}

}  // namespace divrec::model
