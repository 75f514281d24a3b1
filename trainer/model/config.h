// ModelConfig: every size and switch of the sequential transformer, as one plain struct.
// The launcher maps CLI/INI options onto it; the dataset fills the catalog sizes.
#pragma once

#include <cstdint>
#include <string>

namespace divrec::model {

struct ModelConfig {
  // Catalog sizes (from the dataset's item table).
  int64_t num_items = 0;
  int64_t num_categories = 0;
  int64_t num_attributes = 0;
  int64_t content_dim = 0;      // 0 = no content vectors
  int64_t num_text_tokens = 0;  // item text vocabulary (SentencePiece pieces); 0 = no item text

  // Transformer sizes.
  int64_t dim = 64;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t max_len = 50;
  double dropout = 0.2;       // embeddings, residual branches and feed-forward hidden layer
  double attn_dropout = 0.2;  // attention probabilities
  int64_t ffn_dim = 0;        // 0 = 4 * dim

  // Item feature switches; a feature is used only when switched on and present in the data.
  bool use_item_id = true;
  bool use_category = true;
  bool use_attributes = true;
  bool use_content = true;
  bool use_text = true;  // mean bag of the item text's subword embeddings
  // Some items have no content vector (has_content = 0, `shard add-content`): the encoder then
  // learns one "missing content" vector used in place of their projected (zero) content.
  bool content_missing = false;
  // Cold start: items without train interactions (ItemFeatures::id_known false, e.g. held out by
  // `shard convert --cold-items`) get no id term, so their vectors come from side features
  // alone instead of a never-trained random row (zero_cold_ids). During training each item's id
  // term is dropped with probability item_id_dropout (no rescaling; DropoutNet, Volkovs et al.,
  // NeurIPS 2017), so the model learns to rank items whose id it cannot use.
  bool zero_cold_ids = false;
  double item_id_dropout = 0.0;

  // LayerNorm over the fused item vector (the default). Off: raw sums as SASRec uses them, so an
  // item's norm is free to carry its popularity in the tied scores; inputs are then scaled by
  // sqrt(dim) as in SASRec.
  bool item_norm = true;

  double layer_norm_eps = 1e-6;
  double init_std = 0.02;

  // Runtime only (never in the INI text): the item-id table lives outside the module, in the
  // trainer's sparse item table (touched-items training, row-wise sharding). The encoder then
  // registers no item_id parameter and takes id rows from the caller or from a table attached
  // with ItemEncoderImpl::attach_id_table.
  bool external_item_table = false;

  int64_t ffn_size() const { return ffn_dim > 0 ? ffn_dim : 4 * dim; }
  bool has_item_id() const { return use_item_id; }
  bool has_category() const { return use_category && num_categories > 0; }
  bool has_attributes() const { return use_attributes && num_attributes > 0; }
  bool has_content() const { return use_content && content_dim > 0; }
  bool has_text() const { return use_text && num_text_tokens > 0; }

  // Throws divrec::Error naming the offending field (sizes, dim % heads, no feature left).
  void validate() const;
  // One line for logs: "dim=64 layers=2 heads=2 ... features=id+category".
  std::string summary() const;
};

}  // namespace divrec::model
