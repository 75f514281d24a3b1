// Rebuilds the model a checkpoint was trained with (see model_loader.h).
#include "eval/model_loader.h"

#include <torch/torch.h>

#include "core/check.h"
#include "trainer/model/catalog_sizes.h"
#include "trainer/model/checkpoint_files.h"
#include "trainer/model/checkpoint_reader.h"
#include "trainer/model/config_io.h"

namespace divrec::eval {

std::string read_checkpoint_config(const std::string& path) {
  return model::CheckpointArchive(path).config_ini();
}

namespace {

// `take`: the same table as `items`, to move its content from (nullptr = copy it).
LoadedModel load_model(const std::string& checkpoint, const data::ItemTable& items,
                       data::ItemTable* take) {
  LoadedModel out;
  out.path = model::resolve_checkpoint_arg(checkpoint);
  out.config_ini = read_checkpoint_config(out.path);

  // Catalog sizes from the data; a checkpoint that records other sizes was trained on another
  // dataset (the strict tensor load would fail too, but less clearly).
  model::ModelConfig mc =
      model::from_ini(out.config_ini, model::with_catalog_sizes(model::ModelConfig{}, items));
  DIVREC_CHECK_HINT(mc.num_items == items.num_items && mc.num_categories == items.num_categories &&
                        mc.num_attributes == items.num_attributes &&
                        mc.content_dim == items.content_dim &&
                        mc.num_text_tokens == items.text_vocab,
                    "evaluate on the dataset the model was trained on (--data)", "checkpoint '",
                    out.path, "' was trained on a catalog of ", mc.num_items, " items, ",
                    mc.num_categories, " categories, ", mc.num_attributes, " attributes, content ",
                    mc.content_dim, "; the dataset has ", items.num_items, ", ",
                    items.num_categories, ", ", items.num_attributes, ", ", items.content_dim);
  mc.validate();

  auto kv = model::parse_ini(out.config_ini);
  auto obj = kv.find("objective");
  if (obj != kv.end()) {
    DIVREC_CHECK(obj->second == "next-item" || obj->second == "masked-item", "checkpoint '",
                 out.path, "': unknown objective '", obj->second, "' in its stored config");
    out.causal = obj->second == "next-item";
  }

  out.model = model::SeqModel(
      mc, take != nullptr ? model::ItemFeatures::from_table(*take, model::TableContent::kTake)
                          : model::ItemFeatures::from_table(items));
  model::load_model_tensors(out.path, *out.model);
  out.model->eval();
  return out;
}

}  // namespace

LoadedModel load_model_for_eval(const std::string& checkpoint, const data::ItemTable& items) {
  return load_model(checkpoint, items, nullptr);
}

LoadedModel load_model_for_eval(const std::string& checkpoint, data::ItemTable& items,
                                model::TableContent content) {
  return load_model(checkpoint, items, content == model::TableContent::kTake ? &items : nullptr);
}

}  // namespace divrec::eval
