// The training loop: data-parallel pre-training (masked-item) and fine-tuning (next-item).
// Every rank holds the same sequences; a pure function of (seed, epoch) decides the global
// batches, each rank computes on its slice, GradSync averages gradients while backward runs,
// rank 0 validates/checkpoints. Resume reproduces the uninterrupted run exactly (per-step RNG).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "core/comm/communicator.h"
#include "trainer/epoch_plan.h"
#include "trainer/train_config.h"

namespace divrec::trainer {

// Set by SIGUSR1/SIGTERM (preemption): the loop checkpoints at the next step boundary and
// returns kPreempted. All ranks agree through a tiny all-reduce each step.
std::atomic<bool>& preemption_flag();
void install_preemption_handlers();

enum class TrainOutcome { kFinished, kEarlyStopped, kPreempted, kMaxSteps };

struct TrainResult {
  TrainOutcome outcome = TrainOutcome::kFinished;
  int64_t steps = 0;
  int64_t epochs = 0;
  std::map<std::string, double> best_valid;  // validation metrics of the best epoch
  std::map<std::string, double> test;        // test metrics of best.pt (final_test)
  double seconds = 0;
  double param_digest = 0;  // identical on every rank (checked); compares runs exactly
};

// Runs the whole training described by cfg; config_ini is the resolved config text stored in
// checkpoints and saved as RUN_DIR/config.ini by rank 0.
TrainResult train(const TrainConfig& cfg, const std::string& config_ini, core::Communicator& comm);

}  // namespace divrec::trainer
