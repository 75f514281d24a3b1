// ItemEncoder: turns item ids into vectors by fusing the switchable item features (learned id
// embedding, category embedding, mean of attribute embeddings, projected content vector),
// summed and (by default) layer-normalised. The same vectors are the model's tied output
// embeddings.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "trainer/model/config.h"
#include "trainer/model/item_features.h"

namespace divrec::model {

// Model input ids ("tokens"): 0 = padding, 1..I = item i-1, I+1 = [MASK].
// Checkpoint keys under this module (only the switched-on features exist):
//   item_id.weight [I, D]         category.weight [C+1, D] (row C = no category)
//   attributes.weight [A, D]      content_proj.weight [D, content_dim], content_proj.bias [D]
//   text.weight [V, D] (item text pieces, mean bag)
//   content_missing [D] (content_missing only: replaces the projection of items without content)
//   mask_embedding [D]            norm.weight [D], norm.bias [D] (item_norm only)
// The id embedding is indexed by item id and has no padding row: padding tokens are zeroed
// explicitly (see forward), so no row of a table ever stands for padding.
class ItemEncoderImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kPad = 0;

  ItemEncoderImpl(const ModelConfig& config, ItemFeatures features);

  int64_t num_items() const { return num_items_; }
  int64_t dim() const { return dim_; }
  int64_t mask_token() const { return num_items_ + 1; }
  // Item ids -> input ids: i >= 0 -> i + 1, negative (a "no item" marker) -> kPad.
  static torch::Tensor to_input_ids(const torch::Tensor& item_ids);

  // [I, D]: every item's vector in one pass (table lookups + one matmul for content).
  torch::Tensor forward_all();
  // Item ids in [0, I) of any shape S -> [S..., D], computing only the requested rows.
  // id_rows: optional [numel(S), D] float rows of the item-id table for item_ids (flattened),
  // supplied by the sparse item table (a leaf whose .grad() is then the row-sparse gradient);
  // undefined = the encoder's own table (registered or attached).
  torch::Tensor forward_items(const torch::Tensor& item_ids, const torch::Tensor& id_rows = {});
  // Input ids of any shape S -> [S..., D]: items' vectors, mask_embedding for [MASK], zeros
  // for padding. Uses forward_all() when there are at least I tokens, else direct lookups.
  torch::Tensor forward(const torch::Tensor& input_ids);
  // As forward, but gathers item rows from a precomputed forward_all() table (the training
  // step computes it once and shares it between inputs and the tied output scoring).
  // table_ids: optional [R] int64 SORTED unique item ids whose vectors item_table [R, D] holds
  // (the touched-items step); every item of input_ids must be among them. Undefined: item_table
  // is the whole catalog [I, D].
  torch::Tensor embed_inputs(const torch::Tensor& input_ids, const torch::Tensor& item_table,
                             const torch::Tensor& table_ids = {});

  // External id table (ModelConfig::external_item_table): [I, D] float rows used when no id
  // rows are passed (validation, evaluation); not a parameter, never checkpointed by the
  // module. An undefined tensor detaches it. Throws when the encoder owns its table or the
  // shape is not [I, D].
  void attach_id_table(const torch::Tensor& table);
  bool has_id_feature() const { return uses_item_id_; }

  // Side features on the module's current device (moved lazily after .to(device)).
  const ItemFeatures& features();
  // Frees the content vectors ([I, content_dim], the largest array of a foundation-model
  // catalog) of an encoder that only encodes histories given as item-vector rows (serving:
  // SeqModel::encode with an item table). Anything that projects content afterwards
  // (forward_items, item_vectors) throws with a hint; no-op without content.
  void release_content();

 private:
  void check_input_ids(const torch::Tensor& input_ids) const;
  torch::Tensor finish(const torch::Tensor& sum);  // the item norm, when configured
  // Projected content of items `rows` (undefined = all); the missing-content vector where an
  // item has none.
  torch::Tensor content_term(const ItemFeatures& f, const torch::Tensor& rows);
  // Mean bags (attributes, text) of items `flat` only, from the catalog's CSR.
  static torch::Tensor bag_rows(torch::nn::EmbeddingBag& bag, const torch::Tensor& ids,
                                const torch::Tensor& offsets, const torch::Tensor& flat);

  torch::Tensor id_table() const;  // registered weight or attached table; throws when neither
  // The id term of items `flat` (undefined = all) from their id rows: zero for cold items
  // (zero_cold_ids) and, in training, for a random item_id_dropout share of the rows.
  torch::Tensor id_term(const torch::Tensor& rows, const torch::Tensor& flat);

  int64_t num_items_;
  int64_t dim_;
  bool uses_item_id_ = false;
  bool external_ids_ = false;
  bool zero_cold_ids_ = false;
  double id_dropout_ = 0.0;
  torch::Tensor attached_ids_;  // external id table, when attached
  ItemFeatures features_;  // not registered as buffers: data, not checkpointed state
  torch::nn::Embedding item_id_{nullptr};
  torch::nn::Embedding category_{nullptr};
  torch::nn::EmbeddingBag attributes_{nullptr};
  torch::nn::EmbeddingBag text_{nullptr};
  torch::nn::Linear content_proj_{nullptr};
  torch::Tensor content_missing_;  // [D], only with ModelConfig::content_missing
  torch::Tensor mask_embedding_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(ItemEncoder);

}  // namespace divrec::model
