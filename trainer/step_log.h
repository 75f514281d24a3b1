// Training telemetry: RUN_DIR/metrics.jsonl (one JSON object per line, rank 0) and the window of
// steps behind each fixed-format log line (mean loss, grad norm, ms/step, sequences/s, gradient
// communication and waiting time, and every rank's step time, gathered).
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/comm/communicator.h"
#include "core/watchdog.h"
#include "trainer/grad_sync.h"

namespace divrec::trainer {

// Resident memory of this process now (MiB), from /proc/self/statm; 0 where unavailable.
double resident_mb();

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path);
  void write(const nlohmann::json& j);  // flushed per line: a killed job keeps what it logged

 private:
  std::ofstream out_;
};

class StepWindow {
 public:
  explicit StepWindow(const GradSyncStats& start) : stats0_(start) {}
  void add(double seconds, int64_t sequences, double loss, double grad_norm);
  // Sparse item table traffic of the step just added: unique rows this rank touched and the
  // payload bytes it sent in row exchanges.
  void add_sparse(int64_t unique_rows, int64_t bytes_sent);
  // Collective (every rank calls it): gathers the ranks' step times, prints the line on rank 0,
  // appends to log (rank 0 passes it, others nullptr), then starts a new window.
  void flush(core::Communicator& comm, core::Watchdog* watchdog, const GradSyncStats& now,
             int64_t epoch, int64_t step, int64_t total_steps, double lr, MetricsLog* log);

 private:
  GradSyncStats stats0_;
  double seconds_ = 0, sequences_ = 0, loss_ = 0, grad_norm_ = 0;
  double unique_rows_ = 0, sparse_bytes_ = 0;
  int64_t steps_ = 0;
};

}  // namespace divrec::trainer
