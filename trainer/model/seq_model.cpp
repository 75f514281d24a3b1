// SeqModel: encoder + positions + transformer blocks (see seq_model.h).
#include "trainer/model/seq_model.h"

#include <cmath>
#include <utility>

#include "core/check.h"
#include "trainer/model/init.h"
#include "trainer/model/precision.h"

namespace divrec::model {

SeqModelImpl::SeqModelImpl(ModelConfig config, ItemFeatures features) : config_(std::move(config)) {
  config_.validate();
  item_encoder_ = register_module("item_encoder", ItemEncoder(config_, std::move(features)));
  positions_ = register_module("positions", torch::nn::Embedding(config_.max_len, config_.dim));
  trunc_normal_(positions_->weight, config_.init_std);
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t k = 0; k < config_.layers; ++k) blocks_->push_back(TransformerBlock(config_));
  final_norm_ = register_module(
      "final_norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({config_.dim}).eps(config_.layer_norm_eps)));
  // Scores are <user, item> with both sides LayerNorm'd (norm ~sqrt(d)): unit gains would start
  // the logits with std ~sqrt(d) and a softmax loss far above log(I), wasting the first epoch.
  // Gain 1/sqrt(d) on the user side starts them at std ~1 (the scaled dot product of attention);
  // the gain is learned (and never decayed), so the model sharpens scores as it needs.
  init_layer_norm(final_norm_, 1.0 / std::sqrt(static_cast<double>(config_.dim)));
}

void SeqModelImpl::check_input(const torch::Tensor& input_ids) const {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.size(1) <= config_.max_len,
               "SeqModel::encode: input ids must be [B, L] with L <= max_len = ", config_.max_len,
               ", got ", input_ids.sizes());
}

PackedHidden SeqModelImpl::encode_packed(const torch::Tensor& input_ids, bool causal,
                                         const torch::Tensor& item_table,
                                         const torch::Tensor& table_ids) {
  check_input(input_ids);
  const int64_t l = input_ids.size(1);
  const auto is_pad = input_ids.eq(ItemEncoderImpl::kPad);
  // Only the real tokens are embedded and transformed (see TokenLayout).
  const auto layout =
      TokenLayout::make(is_pad, causal, config_.heads, positions_->weight.scalar_type());
  const auto real_ids = input_ids.reshape({-1}).index_select(0, layout.real_index);
  auto x = item_table.defined() ? item_encoder_->embed_inputs(real_ids, item_table, table_ids)
                                : item_encoder_->forward(real_ids);
  // Raw (un-normalised) item vectors start at init_std scale: SASRec's sqrt(dim) input scaling.
  if (!config_.item_norm) x = x * std::sqrt(static_cast<double>(config_.dim));
  // Column j has position L-1-j: counted back from the most recent item.
  const auto pos = (l - 1) - layout.real_index.remainder(l);
  x = torch::dropout(x + positions_->forward(pos), config_.dropout, is_training());
  for (const auto& block : *blocks_) x = block->as<TransformerBlock>()->forward(x, layout);
  return {final_norm_->forward(to_fp32(x)), layout.real_index};
}

torch::Tensor SeqModelImpl::encode(const torch::Tensor& input_ids, bool causal,
                                   const torch::Tensor& item_table,
                                   const torch::Tensor& table_ids) {
  auto packed = encode_packed(input_ids, causal, item_table, table_ids);
  const int64_t b = input_ids.size(0);
  const int64_t l = input_ids.size(1);
  const int64_t d = config_.dim;
  if (packed.hidden.size(0) == b * l) return packed.hidden.view({b, l, d});
  return torch::zeros({b * l, d}, packed.hidden.options())
      .index_copy(0, packed.real_index, packed.hidden)
      .view({b, l, d});
}

torch::Tensor SeqModelImpl::item_vectors() { return item_encoder_->forward_all(); }

torch::Tensor SeqModelImpl::user_vectors(const torch::Tensor& input_ids, bool causal) {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.size(1) >= 1,
               "SeqModel::user_vectors: input ids must be [B, L] with L >= 1, got ",
               input_ids.sizes());
  if (causal) return encode(input_ids, true).select(1, input_ids.size(1) - 1);
  auto history =
      input_ids.size(1) >= config_.max_len
          ? input_ids.narrow(1, input_ids.size(1) - config_.max_len + 1, config_.max_len - 1)
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
