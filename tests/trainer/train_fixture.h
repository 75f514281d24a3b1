// Shared by the trainer's tests: a synthetic data set read back into memory, a model config
// sized for a dataset's catalog, and the parameters of a run's newest checkpoint by name (a
// sparse item table assembled whole).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "trainer/checkpoint.h"
#include "trainer/model/catalog_sizes.h"
#include "trainer/model/seq_model.h"
#include "trainer/train_config.h"

namespace divrec::testing {

struct InMemoryData {
  data::ItemTable items;
  data::UserSequences seqs;
};

// The synthetic data set of `so`, written as one shard to `dir`.
inline void write_synthetic_dataset(const data::SyntheticOptions& so, const std::string& dir) {
  data::WriteOptions wo;
  wo.output_dir = dir;
  wo.num_shards = 1;
  data::write_dataset(data::convert_synthetic(so), wo);
}

// The synthetic data set of `so`, written to a temporary directory (named after `tag` and the
// pid), read back and the directory removed.
inline InMemoryData synthetic_in_memory(const data::SyntheticOptions& so, const std::string& tag) {
  const auto dir =
      (std::filesystem::temp_directory_path() / (tag + "_" + std::to_string(getpid()))).string();
  write_synthetic_dataset(so, dir);
  InMemoryData out{data::read_item_table(dir), data::read_all_users(dir)};
  std::filesystem::remove_all(dir);
  return out;
}

inline std::map<std::string, torch::Tensor> final_params(const trainer::TrainConfig& c) {
  auto items = data::read_item_table(c.data_dir);
  model::SeqModel m(model::with_catalog_sizes(c.model, items),
                    model::ItemFeatures::from_table(items));
  trainer::TrainState st;
  trainer::LoadOptions lo;
  lo.restore_rng = false;
  trainer::load_checkpoint(trainer::find_resume_checkpoint(c.run_dir, "auto"), *m, nullptr, st, lo);
  std::map<std::string, torch::Tensor> out;
  for (auto& kv : m->named_parameters()) out[kv.key()] = kv.value().detach().clone();
  return out;
}

}  // namespace divrec::testing
