// Shared by the serving tests: a small synthetic dataset, a randomly initialised (seeded) model
// saved as a real training checkpoint, and its exported serving artifact, in a scratch
// directory per test binary and name.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/log.h"
#include "data_shards/content_import.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/item_text.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "serving/export.h"
#include "trainer/checkpoint.h"
#include "trainer/model/catalog_sizes.h"
#include "trainer/model/config_io.h"
#include "trainer/model/seq_model.h"

namespace divrec::testing {

struct ServingFixture {
  std::string dir;         // scratch directory
  std::string data_dir;    // divrec dataset
  std::string checkpoint;  // ckpt file
  std::string artifact;    // MODEL.h5
  model::ModelConfig config;
  std::string objective;
};

// A fresh directory under the system temp dir, removed when the test process exits.
inline std::string serving_scratch(const std::string& name) {
  struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Cleanup cleanup;
  core::set_log_quiet(true);
  auto p = std::filesystem::temp_directory_path() /
           ("divrec_test_serving_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  cleanup.dirs.push_back(p.string());
  return p.string();
}

// The title of synthetic item `raw_id` (the converter's ids are integers): brand, product and
// shade words from a formula.
inline std::string fixture_title(int32_t i) {
  static const char* brand[] = {"Velvet", "Aurora", "Nordic", "Coral", "Sable"};
  static const char* what[] = {"Lip Balm", "Nail Lacquer", "Face Wash", "Eye Shadow Palette"};
  static const char* shade[] = {"rose", "amber", "ivory", "plum", "sand", "mint"};
  return std::string(brand[i % 5]) + " " + what[(i / 5) % 4] + " shade " + shade[i % 6] + " " +
         shade[(i / 6) % 6];
}

// A dataset of `items` items (6 categories, 15 attributes, content vectors), a model with
// dim 16, 1 block, max_len 8 (so long histories are cut), initialised with `seed`, saved as a
// checkpoint whose stored config names the objective, and exported with `defaults`.
// use_item_id false: items are encoded from their features only (new items can be appended).
// content_missing: the first 3 items lose their content vector (`shard add-content` of the
// others' vectors), so the model learns the missing-content vector.
// item_text: every item gets a title (`shard convert --item-text`, a SentencePiece vocabulary
// trained on them, at most 6 pieces each) and the model its bag of subwords.
inline ServingFixture make_serving_fixture(const std::string& name,
                                           const std::string& objective = "next-item",
                                           uint64_t seed = 7,
                                           serving::RecommendSettings defaults = {},
                                           int64_t items = 120, bool use_item_id = true,
                                           bool content_missing = false, bool item_text = false) {
  ServingFixture f;
  f.dir = serving_scratch(name);
  f.objective = objective;
  f.data_dir = f.dir + "/data";
  data::SyntheticOptions so;
  so.users = 80;
  so.items = items;
  so.categories = 6;
  so.attributes = 15;
  so.mean_length = 12;
  so.content_dim = 8;
  so.seed = 3;
  data::WriteOptions wo;
  wo.output_dir = f.data_dir;
  data::RawDataset raw = data::convert_synthetic(so);
  if (item_text) {
    std::string tsv = "item_id\ttitle\n";
    for (int32_t r = 0; r < raw.items.size(); ++r)
      tsv += raw.items.name(r) + "\t" + fixture_title(std::stoi(raw.items.name(r))) + "\n";
    core::write_file_atomic(f.dir + "/titles.tsv", tsv);
    data::ItemTextOptions to;
    to.path = f.dir + "/titles.tsv";
    to.train.vocab_size = 60;
    to.max_tokens = 6;
    data::attach_item_text(&raw, to);
  }
  data::write_dataset(raw, wo);
  auto table = data::read_item_table(f.data_dir);
  if (content_missing) {
    std::string csv;
    for (int64_t i = 3; i < table.num_items; ++i) {
      csv += table.raw_ids[static_cast<size_t>(i)];
      for (int64_t j = 0; j < table.content_dim; ++j) {
        csv += fmt::format(",{}", table.content[static_cast<size_t>(i * table.content_dim + j)]);
      }
      csv += "\n";
    }
    core::write_file_atomic(f.dir + "/content.csv", csv);
    data::ContentImportOptions io;
    io.dir = f.data_dir;
    io.source.vectors = f.dir + "/content.csv";
    io.name = "fixture-content";
    data::import_content(io);
    table = data::read_item_table(f.data_dir);
  }

  model::ModelConfig c = model::with_catalog_sizes(model::ModelConfig{}, table);
  c.dim = 16;
  c.layers = 1;
  c.heads = 2;
  c.max_len = 8;
  c.dropout = 0.0;
  c.attn_dropout = 0.0;
  c.use_item_id = use_item_id;
  f.config = c;
  torch::manual_seed(seed);
  model::SeqModel m(c, model::ItemFeatures::from_table(table));
  {
    // Non-trivial norms (init leaves them at 1/0), so every weight matters to the outputs.
    torch::NoGradGuard ng;
    for (auto& p : m->named_parameters()) {
      if (p.key().find("norm") != std::string::npos)
        p.value().add_(torch::randn_like(p.value()) * 0.3);
    }
  }
  trainer::TrainState st;
  st.step = 5;
  st.config_ini = "# test checkpoint\n" + model::to_ini(c) + "objective = " + objective + "\n";
  f.checkpoint = f.dir + "/ckpt-000000005.pt";
  trainer::write_checkpoint_file(f.checkpoint, trainer::serialize_checkpoint(*m, nullptr, st));

  serving::ExportOptions eo;
  eo.checkpoint = f.checkpoint;
  eo.data_dir = f.data_dir;
  eo.output = f.dir + "/model.h5";
  eo.defaults = defaults;
  eo.command = "test export";
  serving::export_artifact(eo);
  f.artifact = eo.output;
  return f;
}

}  // namespace divrec::testing
