// Training checkpoints: model tensors (by name), optimizer state, training progress and data
// cursor, RNG states, config and best metrics in one torch archive, saved collectively (rank 0
// writes, atomically) and loaded strictly or partially. The file format and the choice of file
// to resume from live in checkpoint_files.h.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "trainer/model/checkpoint_files.h"
#include "trainer/sharded_item_table.h"

namespace divrec::trainer {

// The file format and file choice live below the trainer (evaluation and serving read
// checkpoints without the training library); the trainer uses them under these names.
using model::find_resume_checkpoint;
using model::frame_checkpoint;
using model::list_checkpoints;
using model::read_checkpoint_payload;
using model::resolve_checkpoint_arg;
using model::verify_checkpoint_file;
using model::write_checkpoint_file;

struct TrainState {
  int64_t step = 0;   // optimizer updates done (also the LR schedule position)
  int64_t epoch = 0;  // data cursor: epoch and batch index within it to resume at
  int64_t batch_in_epoch = 0;
  double best_metric = -std::numeric_limits<double>::infinity();
  int64_t best_epoch = -1;
  int64_t bad_epochs = 0;                      // early stopping counter
  std::string config_ini;                      // the resolved configuration
  std::map<std::string, double> best_metrics;  // all metrics of the best epoch
  std::map<std::string, uint64_t> counters;    // seeds / RNG counters the trainer keeps
  std::map<std::string, std::string> extra;
};

// The complete file (framed) for this model, optimizer (may be null) and state. rng_states:
// per-rank torch CPU generator states (index = rank); may be empty.
// item_table_layout: ItemTableLayout::to_json() of the sparse item table whose shard files
// are written beside the checkpoint ("" = none; the model then holds every tensor).
std::string serialize_checkpoint(const torch::nn::Module& model,
                                 const torch::optim::Optimizer* optimizer, const TrainState& state,
                                 const std::vector<std::string>& rng_states = {},
                                 const std::string& item_table_layout = "");

struct LoadOptions {
  bool strict = true;          // every model tensor present with the same shape, nothing extra
  bool load_optimizer = true;  // ignored when the optimizer pointer is null
  bool restore_rng = true;     // torch CPU generator of this rank, when saved with this world
  int rank = 0;
  int world = 1;
};
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;         // in the model, not in the checkpoint
  std::vector<std::string> unexpected;      // in the checkpoint, not in the model
  std::vector<std::string> shape_mismatch;  // "name: checkpoint [a, b] vs model [c, d]"
  bool optimizer_loaded = false;
  bool rng_restored = false;
  // The checkpoint's sparse item table (layout JSON), when it has one; a model that owns an
  // item-id table gets it assembled from the shard files as "item_encoder.item_id.weight".
  std::string item_table_layout;
  // A dense checkpoint's item-id table when the model keeps it outside (sparse training
  // initialised from a dense run): the caller loads it into its item table.
  torch::Tensor dense_item_table;
};
// Verifies the checksum first. Strict: any missing / unexpected / mis-shaped tensor throws
// listing all of them; non-strict loads what matches and logs what was skipped (fine-tuning
// from a pre-trained checkpoint). Every rank may call it (reads only).
LoadReport load_checkpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer* optimizer, TrainState& state,
                           const LoadOptions& options = {});

// RUN_DIR/checkpoints/ckpt-<step, 9 digits>.pt, the last keep_last of them (<= 0: all), plus
// best.pt.
class CheckpointManager {
 public:
  explicit CheckpointManager(std::string run_dir, int keep_last = 3);
  const std::string& dir() const { return dir_; }
  std::string path_for_step(int64_t step) const;
  std::string best_path() const;

  // Collective: every rank calls it (the ranks' RNG states are gathered); rank 0 writes
  // ckpt-<state.step>.pt (and best.pt when is_best), then deletes all but the newest
  // keep_last. A write failure throws the same error on every rank. Returns the path. Must
  // not overlap a GradSync step on the same communicator.
  // table: the sparse item table, whose holders write its shard files first (replicated: rank
  // 0 writes one; row-wise: every rank its own), so a committed ckpt-*.pt always has them.
  std::string save(core::Communicator& comm, const torch::nn::Module& model,
                   const torch::optim::Optimizer* optimizer, const TrainState& state,
                   bool is_best = false, ShardedItemTable* table = nullptr) const;

 private:
  std::string dir_;
  int keep_last_;
};

// The torch default CPU generator state as bytes, and back.
std::string torch_rng_state();
void set_torch_rng_state(const std::string& bytes);

}  // namespace divrec::trainer
