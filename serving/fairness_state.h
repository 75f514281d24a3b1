// Serving's side of fair exposure: the exported multipliers applied to every list (so lists equal
// `divrec eval --fairness dual`'s for the same settings), running exposure counters per group, and
// with --fairness-online the same dual step as eval (exposure_policy.h) every `every` lists, on
// the exposure of the lists served since the last step. Thread-safe: requests read an immutable
// policy snapshot; counters are atomics; a step swaps the snapshot under a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "eval/rerank/exposure_policy.h"
#include "serving/fairness_export.h"

namespace divrec::serving {

struct FairnessOnline {
  bool enabled = false;  // --fairness-online: adapt the multipliers to the traffic
  int64_t every = 1000;  // --fairness-online-every: lists between two steps
};

class FairnessState {
 public:
  FairnessState(const FairnessExport& exported, const FairnessOnline& online);

  // The multipliers to apply now (the exported ones unless online steps changed them).
  std::shared_ptr<const eval::ExposurePolicy> policy() const;
  // Counts a served list's exposure (its first k items); may take an online step.
  void record(const int32_t* list, int len);
  // {"groups", "weights", "k", "target", "multipliers", "exported_multipliers", "lists",
  //  "share" (all lists served), "exposure_tvd", "online": {...}}.
  nlohmann::json describe() const;
  const FairnessOnline& online() const { return online_; }

 private:
  void step_locked();

  FairnessExport exported_;
  FairnessOnline online_;
  int groups_;
  mutable std::mutex mutex_;  // guards policy_ swaps, state_, window_base_
  std::shared_ptr<const eval::ExposurePolicy> policy_;
  std::vector<std::atomic<int64_t>> counts_;  // [G * k], since start
  std::atomic<int64_t> lists_{0};
  std::vector<int64_t> window_base_;  // counts_ at the last online step
  eval::DualStepState state_;
  int64_t steps_ = 0;
};

}  // namespace divrec::serving
