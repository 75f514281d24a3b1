// Building and writing the serving artifact from a checkpoint (see export.h).
#include "serving/export.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/check.h"
#include "data_shards/reader.h"
#include "eval/model_loader.h"

namespace divrec::serving {

Artifact build_artifact(const std::string& checkpoint, const std::string& data_dir) {
  auto manifest = data::read_manifest(data_dir);  // checks the directory is a divrec dataset
  auto items = data::read_item_table(data_dir);
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
  write_artifact(options.output, a);

  ExportSummary s;
  s.checkpoint = a.source_checkpoint;
  s.checksum = a.checksum;
  s.items = a.items.num_items;
  s.weights = static_cast<int64_t>(a.weights.size());
  for (const auto& w : a.weights) s.parameters += w.numel();
  s.bytes = std::filesystem::file_size(options.output);
  return s;
}

}  // namespace divrec::serving
