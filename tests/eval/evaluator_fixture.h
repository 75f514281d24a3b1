// Shared by the evaluator tests: a small synthetic dataset written with the data_shards writer, a
// randomly initialised SeqModel saved as a real checkpoint (with its ModelConfig in config_ini),
// and metric-map comparison (exact for histogram/counter metrics, 1e-9 otherwise).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "trainer/checkpoint.h"
#include "trainer/model/catalog_sizes.h"
#include "trainer/model/config_io.h"
#include "trainer/model/seq_model.h"

namespace divrec::testing {

inline std::string eval_scratch_dir(const std::string& name) {
  core::set_log_quiet(true);
  auto p = std::filesystem::temp_directory_path() /
           ("divrec_test_eval_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// A small next-item transformer config over `table`'s catalog.
inline model::ModelConfig fixture_model_config(const data::ItemTable& table) {
  model::ModelConfig mc = model::with_catalog_sizes(model::ModelConfig{}, table);
  mc.dim = 32;
  mc.layers = 1;
  mc.heads = 2;
  mc.max_len = 20;
  mc.dropout = 0.1;
  mc.attn_dropout = 0.1;
  return mc;
}

// Saves `m` as a real checkpoint whose config_ini names the objective and the model config.
inline void save_fixture_checkpoint(const std::string& path, model::SeqModel& m,
                                    const model::ModelConfig& mc,
                                    const std::string& objective = "next-item") {
  trainer::TrainState state;
  state.config_ini = "# test fixture\nobjective = " + objective + "\n" + model::to_ini(mc);
  trainer::write_checkpoint_file(path, trainer::serialize_checkpoint(*m, nullptr, state));
}

// DIR/data: synthetic users/items (leave-one-out, 3 shards); DIR/model.pt: a random next-item
// model (seeded) over that catalog; DIR/masked.pt: the same weights as a masked-item model. Returns
// the model config used.
inline model::ModelConfig make_eval_fixture(const std::string& dir, int64_t users = 240,
                                            int64_t items = 150, uint64_t seed = 7) {
  data::SyntheticOptions so;
  so.users = users;
  so.items = items;
  so.categories = 8;
  so.attributes = 24;
  so.mean_length = 12;
  so.content_dim = 0;
  so.seed = seed;
  auto raw = data::convert_synthetic(so);
  data::WriteOptions wo;
  wo.output_dir = dir + "/data";
  wo.num_shards = 3;
  data::write_dataset(raw, wo);

  auto table = data::read_item_table(wo.output_dir);
  const model::ModelConfig mc = fixture_model_config(table);
  torch::manual_seed(seed);
  model::SeqModel m(mc, model::ItemFeatures::from_table(table));
  // The same weights as a next-item model (model.pt) and as a masked-item one (masked.pt).
  save_fixture_checkpoint(dir + "/model.pt", m, mc, "next-item");
  save_fixture_checkpoint(dir + "/masked.pt", m, mc, "masked-item");
  return mc;
}

// Metrics computed from integer histograms/counters must agree exactly; means of per-user values
// to 1e-9 (they are fixed-point sums, so in practice they agree exactly too).
inline bool exact_metric(const std::string& name) {
  for (const char* p : {"catalog_coverage", "gini", "exposure_entropy", "long_tail_share",
                        "category_exposure_tvd", "users", "infeasible_users"}) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

inline void expect_same_metrics(const std::map<std::string, double>& a,
                                const std::map<std::string, double>& b, const std::string& what) {
  std::set<std::string> ka, kb;
  for (const auto& kv : a) ka.insert(kv.first);
  for (const auto& kv : b) kb.insert(kv.first);
  EXPECT_EQ(ka, kb) << what;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) continue;
    if (exact_metric(k)) {
      EXPECT_EQ(v, it->second) << what << ": " << k;
    } else {
      EXPECT_NEAR(v, it->second, 1e-9) << what << ": " << k;
    }
  }
}

}  // namespace divrec::testing
