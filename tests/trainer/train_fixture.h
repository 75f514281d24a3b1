// Shared by the trainer's MPI tests: a model config sized for a dataset's catalog, and the
// parameters of a run's newest checkpoint by name (a sparse item table assembled whole).
#pragma once

#include <map>
#include <string>

#include "data_shards/reader.h"
#include "trainer/checkpoint.h"
#include "trainer/model/seq_model.h"
#include "trainer/train_config.h"

namespace divrec::testing {

inline model::ModelConfig sized_model(model::ModelConfig mc, const data::ItemTable& items) {
  mc.num_items = items.num_items;
  mc.num_categories = items.num_categories;
  mc.num_attributes = items.num_attributes;
  mc.content_dim = items.content_dim;
  return mc;
}

inline std::map<std::string, torch::Tensor> final_params(const trainer::TrainConfig& c) {
  auto items = data::read_item_table(c.data_dir);
  model::SeqModel m(sized_model(c.model, items), model::ItemFeatures::from_table(items));
  trainer::TrainState st;
  trainer::LoadOptions lo;
  lo.restore_rng = false;
  trainer::load_checkpoint(trainer::find_resume_checkpoint(c.run_dir, "auto"), *m, nullptr, st, lo);
  std::map<std::string, torch::Tensor> out;
  for (auto& kv : m->named_parameters()) out[kv.key()] = kv.value().detach().clone();
  return out;
}

}  // namespace divrec::testing
