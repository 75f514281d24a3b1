// TransformerBlock: pre-LN self-attention + feed-forward (see transformer_block.h).
#include "trainer/model/transformer_block.h"

#include <cmath>

#include "core/check.h"
#include "trainer/model/init.h"
#include "trainer/model/precision.h"

namespace divrec::model {

namespace {
// Large enough that exp(score - max) underflows to exactly 0 for a masked key next to any real
// one, small enough that padding + future (twice this) stays finite in the dtype.
double masked_score(torch::ScalarType dtype) { return dtype == torch::kHalf ? -1.0e4 : -1.0e9; }
}  // namespace

torch::Tensor attention_bias(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                             torch::ScalarType dtype) {
  DIVREC_CHECK(key_is_pad.dim() == 2 && key_is_pad.scalar_type() == torch::kBool,
               "attention_bias: key_is_pad must be a [B, L] bool tensor, got ", key_is_pad.sizes());
  const int64_t b = key_is_pad.size(0);
  const int64_t l = key_is_pad.size(1);
  const double neg = masked_score(dtype);
  const auto opts = key_is_pad.options().dtype(dtype);
  auto bias = key_is_pad.to(dtype).mul_(neg).unsqueeze(1);  // [B, 1(query), L(key)]
  if (causal) {
    bias = bias + torch::ones({l, l}, opts).triu_(1).mul_(neg);  // [B, L, L]
  } else {
    bias = bias.expand({b, l, l});
  }
  return bias.unsqueeze(1).expand({b, heads, l, l}).reshape({b * heads, l, l});
}

TokenLayout TokenLayout::make(const torch::Tensor& key_is_pad, bool causal, int64_t heads,
                              torch::ScalarType dtype) {
  TokenLayout layout;
  layout.batch = key_is_pad.size(0);
  layout.length = key_is_pad.size(1);
  layout.real_index = key_is_pad.reshape({-1}).logical_not().nonzero().reshape({-1});
  layout.bias = attention_bias(key_is_pad, causal, heads, dtype);
  return layout;
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
                                                   const TokenLayout& layout) {
  const int64_t b = layout.batch;
  const int64_t l = layout.length;
  const int64_t dh = dim_ / heads_;
  // One fused projection of the real tokens, scattered into [B*L, 3D] (padding keys and values
  // are zero and masked anyway), then [B, L, 3, H, dh] -> 3 x [B*H, L, dh].
  auto qkv = qkv_->forward(x);
  if (!layout.dense()) {
    qkv = torch::zeros({b * l, 3 * dim_}, qkv.options()).index_copy(0, layout.real_index, qkv);
  }
  // unbind, not three selects: its backward stacks once instead of zero-filling three
  // full-size gradients.
  auto parts = qkv.view({b, l, 3, heads_, dh}).permute({2, 0, 3, 1, 4}).unbind(0);
  auto q = parts[0].reshape({b * heads_, l, dh});
  auto k = parts[1].reshape({b * heads_, l, dh});
  auto v = parts[2].reshape({b * heads_, l, dh});
  auto scores = torch::baddbmm(layout.bias, q, k.transpose(1, 2), /*beta=*/1.0,
                               /*alpha=*/1.0 / std::sqrt(static_cast<double>(dh)));
  // Softmax in fp32 whatever the product's precision (bf16 under autocast).
  auto probs = torch::dropout(torch::softmax(scores, -1, torch::kFloat), attn_dropout_,
                              is_training());
  auto ctx = torch::bmm(probs, v);  // [B*H, L, dh]
  ctx = ctx.view({b, heads_, l, dh}).transpose(1, 2).reshape({b * l, dim_});
  if (!layout.dense()) ctx = ctx.index_select(0, layout.real_index);
  return attn_out_->forward(ctx);
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const TokenLayout& layout) {
  // The residual stream stays fp32 (fp32 + bf16 promotes); LayerNorm gets fp32 input always.
  auto h = x + torch::dropout(self_attention(attn_norm_->forward(to_fp32(x)), layout), dropout_,
                              is_training());
  auto f = torch::gelu(ffn_in_->forward(ffn_norm_->forward(to_fp32(h))));
  f = ffn_out_->forward(torch::dropout(f, dropout_, is_training()));
  return h + torch::dropout(f, dropout_, is_training());
}

}  // namespace divrec::model
