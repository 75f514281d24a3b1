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
#include "trainer/checkpoint_files.h"

namespace divrec::trainer {

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
std::string serialize_checkpoint(const torch::nn::Module& model,
                                 const torch::optim::Optimizer* optimizer, const TrainState& state,
                                 const std::vector<std::string>& rng_states = {});

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
  std::string save(core::Communicator& comm, const torch::nn::Module& model,
                   const torch::optim::Optimizer* optimizer, const TrainState& state,
                   bool is_best = false) const;

 private:
  std::string dir_;
  int keep_last_;
};

// The torch default CPU generator state as bytes, and back.
std::string torch_rng_state();
void set_torch_rng_state(const std::string& bytes);

}  // namespace divrec::trainer
