// SeqModel: encoder + positions + transformer blocks (see seq_model.h).
#include "trainer/model/seq_model.h"

#include <utility>

#include "core/check.h"
#include "trainer/model/init.h"

namespace divrec::model {

SeqModelImpl::SeqModelImpl(ModelConfig config, ItemFeatures features)
    : config_(std::move(config)) {
  config_.validate();
  item_encoder_ = register_module("item_encoder", ItemEncoder(config_, std::move(features)));
  positions_ = register_module("positions", torch::nn::Embedding(config_.max_len, config_.dim));
  trunc_normal_(positions_->weight, config_.init_std);
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t k = 0; k < config_.layers; ++k) blocks_->push_back(TransformerBlock(config_));
  final_norm_ = register_module(
      "final_norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({config_.dim}).eps(config_.layer_norm_eps)));
  init_layer_norm(final_norm_);
}

torch::Tensor SeqModelImpl::run_blocks(const torch::Tensor& input_ids, torch::Tensor tokens,
                                       bool causal) {
  const int64_t l = input_ids.size(1);
  // Column j has position L-1-j: counted back from the most recent item.
  auto pos = torch::arange(l - 1, -1, -1, input_ids.options());
  auto x = tokens + positions_->forward(pos).unsqueeze(0);
  x = torch::dropout(x, config_.dropout, is_training());
  const auto is_pad = input_ids.eq(ItemEncoderImpl::kPad);
  const auto bias = attention_bias(is_pad, causal, config_.heads, x.scalar_type());
  for (const auto& block : *blocks_) x = block->as<TransformerBlock>()->forward(x, bias);
  return final_norm_->forward(x).masked_fill(is_pad.unsqueeze(2), 0.0);
}

torch::Tensor SeqModelImpl::encode(const torch::Tensor& input_ids, bool causal) {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.size(1) <= config_.max_len,
               "SeqModel::encode: input ids must be [B, L] with L <= max_len = ", config_.max_len,
               ", got ", input_ids.sizes());
  return run_blocks(input_ids, item_encoder_->forward(input_ids), causal);
}

torch::Tensor SeqModelImpl::encode(const torch::Tensor& input_ids, bool causal,
                                   const torch::Tensor& item_table) {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.size(1) <= config_.max_len,
               "SeqModel::encode: input ids must be [B, L] with L <= max_len = ", config_.max_len,
               ", got ", input_ids.sizes());
  return run_blocks(input_ids, item_encoder_->embed_inputs(input_ids, item_table), causal);
}

torch::Tensor SeqModelImpl::item_vectors() { return item_encoder_->forward_all(); }

torch::Tensor SeqModelImpl::user_vectors(const torch::Tensor& input_ids, bool causal) {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.size(1) >= 1,
               "SeqModel::user_vectors: input ids must be [B, L] with L >= 1, got ",
               input_ids.sizes());
  if (causal) return encode(input_ids, true).select(1, input_ids.size(1) - 1);
  auto history = input_ids.size(1) >= config_.max_len
                     ? input_ids.narrow(1, input_ids.size(1) - config_.max_len + 1,
                                        config_.max_len - 1)
                     : input_ids;
  auto mask_col = torch::full({input_ids.size(0), 1}, mask_token(), input_ids.options());
  auto ids = torch::cat({history, mask_col}, 1);
  return encode(ids, false).select(1, ids.size(1) - 1);
}

torch::Tensor SeqModelImpl::score_all(const torch::Tensor& user_vecs) {
  DIVREC_CHECK(user_vecs.dim() == 2 && user_vecs.size(1) == config_.dim,
               "SeqModel::score_all: user vectors must be [B, ", config_.dim, "], got ",
               user_vecs.sizes());
  return torch::matmul(user_vecs, item_vectors().t());
}

}  // namespace divrec::model
