// Building and writing the serving artifact from a checkpoint (see export.h).
#include "serving/export.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/reader.h"
#include "eval/model_loader.h"
#include "eval/retrieval/ann_store.h"

namespace divrec::serving {

Artifact build_artifact(const std::string& checkpoint, const std::string& data_dir) {
  auto manifest = data::read_manifest(data_dir);  // checks the directory is a divrec dataset
  // fp16/bf16 content is read, modelled and written as its 16-bit patterns (no fp32 copy).
  auto items = data::read_item_table(data_dir, data::ContentRead::kStored);
  DIVREC_CHECK_HINT(manifest.num_items == items.num_items, "re-convert the dataset", "dataset '",
                    data_dir, "': manifest lists ", manifest.num_items,
                    " items, the item table has ", items.num_items);
  auto loaded = eval::load_model_for_eval(checkpoint, items);  // strict, eval mode
  auto& m = loaded.model;
  DIVREC_CHECK(m->named_buffers(true).is_empty(), "checkpoint '", loaded.path,
               "': the model has buffers; the serving artifact stores parameters only");

  Artifact a;
  a.config = m->config();
  a.objective = loaded.causal ? "next-item" : "masked-item";
  a.train_config = loaded.config_ini;
  a.source_checkpoint = loaded.path;
  torch::NoGradGuard no_grad;
  for (const auto& p : m->named_parameters(true)) {
    a.weight_names.push_back(p.key());
    a.weights.push_back(p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous().clone());
  }
  // The tied output vectors, computed exactly once (serving never runs the item encoder).
  a.item_vectors = m->item_vectors().detach().to(torch::kCPU, torch::kFloat32).contiguous();
  a.items = std::move(items);
  return a;
}

ExportSummary export_artifact(const ExportOptions& options) {
  DIVREC_CHECK_HINT(!options.output.empty(), "pass --output MODEL.h5", "export: no output path");
  validate(options.defaults);
  Artifact a = build_artifact(options.checkpoint, options.data_dir);
  a.defaults = options.defaults;
  a.export_command = options.command;
  if (!options.fairness_report.empty()) {
    a.fairness = fairness_from_report(options.fairness_report, a.items);
    core::log0("export: fairness policy of '{}': {} groups ({}), multipliers applied to every list",
               options.fairness_report, a.fairness.policy.groups.num_groups(),
               a.fairness.policy.groups.spec);
  }
  double build_s = 0;
  if (eval::wants_ann(options.retrieval, a.items.num_items)) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto& v = a.item_vectors;
    auto index = eval::AnnIndex::build(v.data_ptr<float>(), v.size(0), v.size(1), options.ann);
    build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    a.ann_index = eval::save_ann_beside(index, options.output);
    core::log0("export: {} index over {} items built in {:.1f} s: '{}'",
               eval::ann_kind_name(index.kind()), index.size(), build_s, a.ann_index.file);
  }
  write_artifact(options.output, a);
  eval::remove_stale_ann(options.output, a.ann_index.file);

  ExportSummary s;
  s.checkpoint = a.source_checkpoint;
  s.checksum = a.checksum;
  s.items = a.items.num_items;
  s.weights = static_cast<int64_t>(a.weights.size());
  for (const auto& w : a.weights) s.parameters += w.numel();
  s.bytes = std::filesystem::file_size(options.output);
  s.ann_index = a.ann_index.file;
  s.ann_build_s = build_s;
  return s;
}

}  // namespace divrec::serving
