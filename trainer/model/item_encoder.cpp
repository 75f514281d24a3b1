// ItemEncoder: fused item features -> vectors (see item_encoder.h).
#include "trainer/model/item_encoder.h"

#include <utility>

#include "core/check.h"
#include "trainer/model/content_projection.h"
#include "trainer/model/init.h"
#include "trainer/model/precision.h"

namespace divrec::model {

ItemEncoderImpl::ItemEncoderImpl(const ModelConfig& config, ItemFeatures features)
    : num_items_(config.num_items), dim_(config.dim), features_(std::move(features)) {
  config.validate();
  DIVREC_CHECK(features_.num_items == num_items_, "item encoder: features describe ",
               features_.num_items, " items but the model config has num_items = ", num_items_);
  const double std = config.init_std;
  const int64_t d = config.dim;
  uses_item_id_ = config.has_item_id();
  external_ids_ = uses_item_id_ && config.external_item_table;
  zero_cold_ids_ = uses_item_id_ && config.zero_cold_ids;
  id_dropout_ = uses_item_id_ ? config.item_id_dropout : 0.0;
  if (uses_item_id_ && !external_ids_) {
    item_id_ = register_module("item_id", torch::nn::Embedding(num_items_, d));
    trunc_normal_(item_id_->weight, std);
    if (zero_cold_ids_) {
      // Never used (id_term), and zero in checkpoints rather than a random initial row.
      torch::NoGradGuard no_grad;
      item_id_->weight.masked_fill_(features_.id_known.logical_not().unsqueeze(1), 0.0);
    }
  }
  if (config.has_category()) {
    DIVREC_CHECK(features_.num_categories == config.num_categories, "item encoder: features have ",
                 features_.num_categories, " categories, config has ", config.num_categories);
    category_ = register_module("category", torch::nn::Embedding(config.num_categories + 1, d));
    trunc_normal_(category_->weight, std);
  }
  if (config.has_attributes()) {
    DIVREC_CHECK(features_.num_attributes == config.num_attributes, "item encoder: features have ",
                 features_.num_attributes, " attributes, config has ", config.num_attributes);
    attributes_ = register_module(
        "attributes",
        torch::nn::EmbeddingBag(
            torch::nn::EmbeddingBagOptions(config.num_attributes, d).mode(torch::kMean)));
    trunc_normal_(attributes_->weight, std);
  }
  if (config.has_text()) {
    DIVREC_CHECK(features_.num_text_tokens == config.num_text_tokens, "item encoder: features have ",
                 features_.num_text_tokens, " text pieces, config has ", config.num_text_tokens);
    text_ = register_module(
        "text", torch::nn::EmbeddingBag(
                    torch::nn::EmbeddingBagOptions(config.num_text_tokens, d).mode(torch::kMean)));
    trunc_normal_(text_->weight, std);
  }
  if (config.has_content()) {
    DIVREC_CHECK(features_.content_dim == config.content_dim && features_.content.defined(),
                 "item encoder: features have content_dim ", features_.content_dim, ", config has ",
                 config.content_dim);
    content_proj_ = register_module("content_proj", torch::nn::Linear(config.content_dim, d));
    init_linear(content_proj_, std);
    if (config.content_missing) {
      DIVREC_CHECK(features_.has_content.defined(), "item encoder: content_missing needs has_content");
      content_missing_ = register_parameter("content_missing", torch::empty({d}));
      trunc_normal_(content_missing_, std);
    }
  }
  mask_embedding_ = register_parameter("mask_embedding", torch::empty({d}));
  trunc_normal_(mask_embedding_, std);
  if (config.item_norm) {
    norm_ = register_module(
        "norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(config.layer_norm_eps)));
    init_layer_norm(norm_);
  }
}

torch::Tensor ItemEncoderImpl::finish(const torch::Tensor& sum) {
  return norm_ ? norm_->forward(to_fp32(sum)) : to_fp32(sum);
}

torch::Tensor ItemEncoderImpl::bag_rows(torch::nn::EmbeddingBag& bag, const torch::Tensor& ids,
                                        const torch::Tensor& offsets, const torch::Tensor& flat) {
  // Sub-CSR of the requested items: new bag offsets and the positions of their entries.
  const auto starts = offsets.index_select(0, flat);
  const auto lens = offsets.index_select(0, flat + 1) - starts;
  const auto ends = torch::cumsum(lens, 0);
  const auto new_offsets = ends - lens;
  const int64_t total = ends[-1].item<int64_t>();
  const auto shift = torch::repeat_interleave(starts - new_offsets, lens, 0, total);
  const auto positions = torch::arange(total, flat.options()) + shift;
  return bag->forward(ids.index_select(0, positions), new_offsets);
}

torch::Tensor ItemEncoderImpl::content_term(const ItemFeatures& f, const torch::Tensor& rows) {
  DIVREC_CHECK_HINT(f.content.defined(),
                    "rebuild the model from its artifact or dataset to encode items",
                    "item encoder: the content vectors were released (release_content: this model "
                    "encodes histories from item vectors only)");
  // fp16/bf16 content is gathered and projected as stored; project_content widens row chunks.
  const auto content = rows.defined() ? f.content.index_select(0, rows) : f.content;
  auto projected = project_content(content, content_proj_->weight, content_proj_->bias);
  if (!content_missing_.defined()) return projected;
  const auto has = rows.defined() ? f.has_content.index_select(0, rows) : f.has_content;
  return torch::where(has.unsqueeze(1), projected, content_missing_.to(projected.dtype()));
}

torch::Tensor ItemEncoderImpl::to_input_ids(const torch::Tensor& item_ids) {
  return torch::where(item_ids >= 0, item_ids + 1, torch::zeros_like(item_ids));
}

const ItemFeatures& ItemEncoderImpl::features() {
  const auto device = mask_embedding_.device();
  if (features_.device() != device) features_ = features_.to(device);
  return features_;
}

void ItemEncoderImpl::release_content() {
  features_.content = torch::Tensor();
  features_.has_content = torch::Tensor();
}

void ItemEncoderImpl::attach_id_table(const torch::Tensor& table) {
  DIVREC_CHECK_HINT(external_ids_, "only a model built with an external item table takes one",
                    "item encoder: attach_id_table on an encoder that owns its id table");
  DIVREC_CHECK(!table.defined() || (table.dim() == 2 && table.size(0) == num_items_ &&
                                    table.size(1) == dim_),
               "item encoder: attached id table must be [", num_items_, ", ", dim_, "], got ",
               table.sizes());
  attached_ids_ = table;
}

torch::Tensor ItemEncoderImpl::id_table() const {
  if (item_id_) return item_id_->weight;
  DIVREC_CHECK_HINT(attached_ids_.defined(),
                    "pass id rows, or attach the (gathered) table with attach_id_table",
                    "item encoder: the item-id table is external and none is attached");
  return attached_ids_;
}

torch::Tensor ItemEncoderImpl::id_term(const torch::Tensor& rows, const torch::Tensor& flat) {
  torch::Tensor keep;  // [n] bool
  if (zero_cold_ids_) {
    const auto& known = features().id_known;
    keep = flat.defined() ? known.index_select(0, flat) : known;
  }
  if (id_dropout_ > 0 && is_training()) {
    auto drop = torch::rand({rows.size(0)}, rows.options().dtype(torch::kFloat32)).lt(id_dropout_);
    keep = keep.defined() ? keep.logical_and(drop.logical_not()) : drop.logical_not();
  }
  return keep.defined() ? rows * keep.unsqueeze(1).to(rows.scalar_type()) : rows;
}

torch::Tensor ItemEncoderImpl::forward_all() {
  const auto& f = features();
  torch::Tensor sum;
  auto add = [&](const torch::Tensor& t) { sum = sum.defined() ? sum + t : t; };
  if (uses_item_id_) add(id_term(id_table(), {}));
  if (category_) add(category_->forward(f.category));
  if (attributes_) add(attributes_->forward(f.attr_ids, f.bag_offsets()));
  if (text_) add(text_->forward(f.text_ids, f.text_bag_offsets()));
  if (content_proj_) add(content_term(f, {}));
  return finish(sum);
}

torch::Tensor ItemEncoderImpl::forward_items(const torch::Tensor& item_ids,
                                             const torch::Tensor& id_rows) {
  const auto& f = features();
  auto sizes = item_ids.sizes().vec();
  sizes.push_back(dim_);
  const auto flat = item_ids.reshape({-1}).to(torch::kInt64);
  if (flat.numel() == 0) return torch::zeros(sizes, mask_embedding_.options());  // no empty bags
  torch::Tensor sum;
  auto add = [&](const torch::Tensor& t) { sum = sum.defined() ? sum + t : t; };
  if (id_rows.defined()) {
    DIVREC_CHECK(uses_item_id_ && id_rows.dim() == 2 && id_rows.size(0) == flat.numel() &&
                     id_rows.size(1) == dim_,
                 "item encoder: id rows must be [", flat.numel(), ", ", dim_,
                 "] for a model with the item-id feature, got ", id_rows.sizes());
    add(id_term(id_rows, flat));
  } else if (item_id_) {
    add(id_term(item_id_->forward(flat), flat));
  } else if (uses_item_id_) {
    add(id_term(id_table().index_select(0, flat), flat));
  }
  if (category_) add(category_->forward(f.category.index_select(0, flat)));
  if (attributes_) add(bag_rows(attributes_, f.attr_ids, f.attr_offsets, flat));
  if (text_) add(bag_rows(text_, f.text_ids, f.text_offsets, flat));
  if (content_proj_) add(content_term(f, flat));
  return finish(sum).reshape(sizes);
}

void ItemEncoderImpl::check_input_ids(const torch::Tensor& input_ids) const {
  DIVREC_CHECK(input_ids.scalar_type() == torch::kInt64, "item encoder: input ids must be int64, ",
               "got ", input_ids.scalar_type());
  if (input_ids.numel() == 0) return;
  const bool bad = (input_ids.lt(0) | input_ids.gt(num_items_ + 1)).any().item<bool>();
  DIVREC_CHECK(!bad, "item encoder: input ids must be in [0, ", num_items_ + 1,
               "] (0 = pad, 1..I = items, I+1 = mask); min ", input_ids.min().item<int64_t>(),
               ", max ", input_ids.max().item<int64_t>());
}

torch::Tensor ItemEncoderImpl::embed_inputs(const torch::Tensor& input_ids,
                                            const torch::Tensor& item_table,
                                            const torch::Tensor& table_ids) {
  check_input_ids(input_ids);
  const int64_t rows_expected = table_ids.defined() ? table_ids.numel() : num_items_;
  DIVREC_CHECK(item_table.dim() == 2 && item_table.size(0) == rows_expected &&
                   item_table.size(1) == dim_,
               "item encoder: item table must be [", rows_expected, ", ", dim_, "], got ",
               item_table.sizes());
  const auto flat = input_ids.reshape({-1});
  auto index = (flat - 1).clamp(0, num_items_ - 1);
  if (table_ids.defined()) {
    DIVREC_CHECK(table_ids.numel() > 0, "item encoder: empty table_ids");
    index = torch::searchsorted(table_ids, index).clamp_max(table_ids.numel() - 1);
  }
  auto rows = item_table.index_select(0, index);
  rows = torch::where(flat.eq(mask_token()).unsqueeze(1), mask_embedding_, rows);
  rows = rows.masked_fill(flat.eq(kPad).unsqueeze(1), 0.0);
  auto sizes = input_ids.sizes().vec();
  sizes.push_back(dim_);
  return rows.reshape(sizes);
}

torch::Tensor ItemEncoderImpl::forward(const torch::Tensor& input_ids) {
  if (input_ids.numel() >= num_items_) return embed_inputs(input_ids, forward_all());
  check_input_ids(input_ids);
  const auto flat = input_ids.reshape({-1});
  auto rows = forward_items((flat - 1).clamp(0, num_items_ - 1));
  rows = torch::where(flat.eq(mask_token()).unsqueeze(1), mask_embedding_, rows);
  rows = rows.masked_fill(flat.eq(kPad).unsqueeze(1), 0.0);
  auto sizes = input_ids.sizes().vec();
  sizes.push_back(dim_);
  return rows.reshape(sizes);
}

}  // namespace divrec::model
