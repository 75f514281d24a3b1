// Checkpoint reading below the trainer (see checkpoint_reader.h).
#include "trainer/model/checkpoint_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "core/check.h"
#include "trainer/model/checkpoint_files.h"
#include "trainer/model/item_table_file.h"

namespace divrec::model {

namespace {

std::string shape_str(torch::IntArrayRef s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

std::string TensorMatch::problems() const {
  return fmt::format("missing in checkpoint: [{}]; not in model: [{}]; shape differs: [{}]",
                     fmt::join(missing, ", "), fmt::join(unexpected, ", "),
                     fmt::join(shape_mismatch, "; "));
}

void TensorMatch::copy_into_model() {
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
}

CheckpointArchive::CheckpointArchive(const std::string& path) : path_(path) {
  std::string payload = read_checkpoint_payload(path);
  try {
    ar_.load_from(payload.data(), payload.size(), torch::Device(torch::kCPU));
    c10::IValue v;
    ar_.read("meta", v);
    meta_ = nlohmann::json::parse(v.toStringRef());
    DIVREC_CHECK(meta_.value("format", int64_t{0}) == kCheckpointFormatVersion, "format ",
                 meta_.value("format", int64_t{0}), ", this build reads ",
                 kCheckpointFormatVersion);
  } catch (const std::exception& e) {
    DIVREC_FAIL("checkpoint '", path, "' passed its checksum but cannot be decoded: ", e.what());
  }
}

std::string CheckpointArchive::config_ini() {
  torch::Tensor ini;
  try {
    ar_.read("state/config_ini", ini, /*is_buffer=*/true);
  } catch (const std::exception& e) {
    DIVREC_FAIL("checkpoint '", path_, "' has no readable state/config_ini: ", e.what());
  }
  ini = ini.contiguous();
  return std::string(static_cast<const char*>(ini.data_ptr()), static_cast<size_t>(ini.numel()));
}

TensorMatch CheckpointArchive::match(const torch::nn::Module& module) {
  TensorMatch m;
  std::set<std::string> saved;
  for (const auto& n : meta_.at("model")) saved.insert(n.get<std::string>());
  m.item_table_layout = meta_.value("item_table", std::string());
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& it : module.named_parameters(true)) tensors.emplace_back(it.key(), it.value());
  for (const auto& it : module.named_buffers(true)) tensors.emplace_back(it.key(), it.value());
  bool module_has_ids = false;
  for (const auto& kv : tensors) module_has_ids |= kv.first == kItemIdWeight;
  if (!m.item_table_layout.empty() && module_has_ids) saved.insert(kItemIdWeight);
  if (!module_has_ids && saved.count(kItemIdWeight)) {
    ar_.read(std::string("model/") + kItemIdWeight, m.dense_item_table, /*is_buffer=*/true);
    saved.erase(kItemIdWeight);
  }
  std::set<std::string> in_module;
  for (const auto& [name, t] : tensors) {
    in_module.insert(name);
    if (!saved.count(name)) {
      m.missing.push_back(name);
      continue;
    }
    torch::Tensor src;
    if (name == kItemIdWeight && !m.item_table_layout.empty()) {
      // The sparse table's shard files, assembled into the whole [I, D] table.
      const auto layout = ItemTableLayout::from_json(m.item_table_layout);
      src = read_item_table_rows(path_, layout, 0, 1, false).weight;
    } else {
      ar_.read("model/" + name, src, /*is_buffer=*/true);
    }
    if (src.sizes() != t.sizes()) {
      m.shape_mismatch.push_back(fmt::format("{}: checkpoint {} vs model {}", name,
                                             shape_str(src.sizes()), shape_str(t.sizes())));
      continue;
    }
    m.copies.emplace_back(t, src);
    m.loaded.push_back(name);
  }
  for (const auto& n : saved) {
    if (!in_module.count(n)) m.unexpected.push_back(n);
  }
  return m;
}

void load_model_tensors(const std::string& path, torch::nn::Module& module) {
  CheckpointArchive ckpt(path);
  auto m = ckpt.match(module);
  DIVREC_CHECK_HINT(m.clean(), "the model configuration must match the checkpoint's",
                    "checkpoint '", path, "' does not match the model: ", m.problems());
  m.copy_into_model();
}

}  // namespace divrec::model
