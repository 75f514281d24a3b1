// SeqModel: the sequential recommender (item encoder + positions + pre-LN transformer blocks +
// final LayerNorm) over LEFT-padded input id sequences, with tied item output vectors.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/config.h"
#include "trainer/model/item_encoder.h"
#include "trainer/model/item_features.h"
#include "trainer/model/transformer_block.h"

namespace divrec::model {

// Inputs are [B, L] int64 input ids (ItemEncoderImpl: 0 = pad, 1..I = items, I+1 = [MASK]),
// left-padded so the most recent item sits at column L-1, with L <= max_len. Positions count
// back from the last column (position 0 = column L-1), so padding a batch only to its own
// longest sequence gives the same outputs at real positions as padding to max_len. Internally
// only the real tokens go through the per-token layers (TokenLayout), so padding costs little
// beyond the [B*H, L, L] attention scores.
//
// Checkpoint keys (named_parameters; no buffers):
//   item_encoder.{item_id.weight, category.weight, attributes.weight, content_proj.weight,
//                 content_proj.bias, mask_embedding, norm.weight, norm.bias}  (switched-on only)
//   positions.weight [max_len, D]
//   blocks.<k>.{attn_norm, qkv, attn_out, ffn_norm, ffn_in, ffn_out}.{weight, bias}, k < layers
//   final_norm.{weight, bias}
// Hidden states of the real tokens of a batch, in row-major order of their positions.
struct PackedHidden {
  torch::Tensor hidden;      // [N, D]
  torch::Tensor real_index;  // [N] int64 flat indices into B*L of the non-padding positions
};

class SeqModelImpl : public torch::nn::Module {
 public:
  SeqModelImpl(ModelConfig config, ItemFeatures features);

  // Hidden states [B, L, D]; rows at padding positions are exactly zero. causal = next-item
  // (position t sees positions <= t); otherwise bidirectional (masked-item). item_table:
  // optional item_vectors() computed once per step by the caller, so one catalog pass serves
  // both the inputs and the tied output scoring; undefined = direct lookups of the inputs.
  // table_ids: see ItemEncoderImpl::embed_inputs (item_table then holds only those items).
  torch::Tensor encode(const torch::Tensor& input_ids, bool causal,
                       const torch::Tensor& item_table = {}, const torch::Tensor& table_ids = {});
  // As encode, but only the real (non-padding) positions: skips the scatter into [B, L, D]
  // when the loss wants exactly those rows (next-item training, user vectors).
  PackedHidden encode_packed(const torch::Tensor& input_ids, bool causal,
                             const torch::Tensor& item_table = {},
                             const torch::Tensor& table_ids = {});

  // [I, D] output item embeddings (tied: the item encoder's vectors).
  torch::Tensor item_vectors();
  // [B, D] user vectors. causal: hidden state at the last column. Not causal (a masked-item
  // model): appends [MASK] after the history (dropping the oldest column if L == max_len)
  // and returns the bidirectional hidden state at the [MASK].
  torch::Tensor user_vectors(const torch::Tensor& input_ids, bool causal = true);
  // [B, I] scores of every item: user_vecs [B, D] @ item_vectors()^T.
  torch::Tensor score_all(const torch::Tensor& user_vecs);

  const ModelConfig& config() const { return config_; }
  ItemEncoder& item_encoder() { return item_encoder_; }
  int64_t mask_token() const { return config_.num_items + 1; }
  static torch::Tensor to_input_ids(const torch::Tensor& item_ids) {
    return ItemEncoderImpl::to_input_ids(item_ids);
  }

 private:
  void check_input(const torch::Tensor& input_ids) const;

  ModelConfig config_;
  ItemEncoder item_encoder_{nullptr};
  torch::nn::Embedding positions_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
};
TORCH_MODULE(SeqModel);

}  // namespace divrec::model
