// ModelConfig validation and its one-line summary for logs.
#include "trainer/model/config.h"

#include <fmt/format.h>

#include "core/check.h"

namespace divrec::model {

void ModelConfig::validate() const {
  DIVREC_CHECK(num_items > 0, "model config: num_items must be positive, got ", num_items);
  DIVREC_CHECK(num_categories >= 0 && num_attributes >= 0 && content_dim >= 0,
               "model config: negative catalog size (categories ", num_categories, ", attributes ",
               num_attributes, ", content_dim ", content_dim, ")");
  DIVREC_CHECK(dim > 0 && layers >= 0 && heads > 0 && max_len > 0,
               "model config: dim, heads and max_len must be positive and layers >= 0 (dim ", dim,
               ", layers ", layers, ", heads ", heads, ", max_len ", max_len, ")");
  DIVREC_CHECK_HINT(dim % heads == 0, "choose --model.dim as a multiple of --model.heads",
                    "model config: dim ", dim, " is not divisible by heads ", heads);
  DIVREC_CHECK(ffn_dim >= 0, "model config: ffn_dim must be >= 0 (0 = 4*dim), got ", ffn_dim);
  DIVREC_CHECK(dropout >= 0.0 && dropout < 1.0 && attn_dropout >= 0.0 && attn_dropout < 1.0,
               "model config: dropout rates must be in [0, 1), got dropout ", dropout,
               ", attn_dropout ", attn_dropout);
  DIVREC_CHECK(layer_norm_eps > 0.0 && init_std > 0.0,
               "model config: layer_norm_eps and init_std must be positive");
  DIVREC_CHECK(num_text_tokens >= 0, "model config: num_text_tokens must be >= 0");
  DIVREC_CHECK_HINT(item_id_dropout >= 0.0 && item_id_dropout < 1.0,
                    "pass --item-id-dropout in [0, 1)", "model config: item_id_dropout ",
                    item_id_dropout);
  DIVREC_CHECK_HINT(
      has_item_id() || has_category() || has_attributes() || has_content() || has_text(),
      "switch on use_item_id, or a side feature the dataset has",
      "model config: no item feature is enabled (item_id ", use_item_id, ", category ",
      has_category(), ", attributes ", has_attributes(), ", content ", has_content(), ")");
}

std::string ModelConfig::summary() const {
  std::string features;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!features.empty()) features += "+";
    features += name;
  };
  add(has_item_id(), "id");
  add(has_category(), "category");
  add(has_attributes(), "attributes");
  add(has_content(), "content");
  add(has_text(), "text");
  return fmt::format(
      "items={} dim={} layers={} heads={} ffn={} max_len={} dropout={} attn_dropout={} "
      "features={}{}{}{}",
      num_items, dim, layers, heads, ffn_size(), max_len, dropout, attn_dropout, features,
      item_norm ? "" : " item_norm=off", zero_cold_ids ? " zero_cold_ids" : "",
      item_id_dropout > 0 ? fmt::format(" item_id_dropout={}", item_id_dropout) : "");
}

}  // namespace divrec::model
