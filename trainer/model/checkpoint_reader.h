// Reading a training checkpoint without the training library: the verified, decoded archive
// and its metadata, the stored config text, and the model tensors matched against a module
// (the sparse item table assembled from its shard files). Evaluation, export and serving use
// this; the trainer's load_checkpoint adds the optimizer, train state and RNG on top.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace divrec::model {

inline constexpr int64_t kCheckpointFormatVersion = 1;

struct TensorMatch {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;         // in the model, not in the checkpoint
  std::vector<std::string> unexpected;      // in the checkpoint, not in the model
  std::vector<std::string> shape_mismatch;  // "name: checkpoint [a, b] vs model [c, d]"
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (model tensor, saved)
  // The sparse item table's layout JSON, when the checkpoint has one.
  std::string item_table_layout;
  // A dense checkpoint's item-id table when the module keeps it outside (external table).
  torch::Tensor dense_item_table;

  bool clean() const { return missing.empty() && unexpected.empty() && shape_mismatch.empty(); }
  std::string problems() const;  // one line listing every mismatch
  void copy_into_model();        // copies the matched tensors (no grad)
};

class CheckpointArchive {
 public:
  // Verifies the footer checksum, decodes the archive and its metadata; throws naming the file.
  explicit CheckpointArchive(const std::string& path);
  const std::string& path() const { return path_; }
  const nlohmann::json& meta() const { return meta_; }
  torch::serialize::InputArchive& archive() { return ar_; }
  // The resolved configuration text train stored (state/config_ini).
  std::string config_ini();
  // Matches module's parameters and buffers with the saved model tensors; reads (copies
  // nothing into the module yet). A module that owns an item-id table gets it assembled from
  // the item-table shard files when the checkpoint has them.
  TensorMatch match(const torch::nn::Module& module);

 private:
  std::string path_;
  torch::serialize::InputArchive ar_;
  nlohmann::json meta_;
};

// Loads every model tensor of checkpoint `path` into module strictly (throws listing every
// missing / unexpected / mis-shaped tensor, with a hint).
void load_model_tensors(const std::string& path, torch::nn::Module& module);

}  // namespace divrec::model
