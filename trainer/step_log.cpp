// Training telemetry (see step_log.h).
#include "trainer/step_log.h"

#include <unistd.h>

#include <fmt/format.h>

#include <vector>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/log.h"

namespace divrec::trainer {

MetricsLog::MetricsLog(const std::string& path) : out_(path, std::ios::app) {
  DIVREC_CHECK(out_.good(), "cannot open metrics log '", path, "'");
}

void MetricsLog::write(const nlohmann::json& j) {
  out_ << j.dump() << "\n";
  out_.flush();
}

double resident_mb() {
  // /proc/self/statm: size resident shared ... in pages.
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0.0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

void StepWindow::add(double seconds, int64_t sequences, double loss, double grad_norm) {
  seconds_ += seconds;
  sequences_ += static_cast<double>(sequences);
  loss_ += loss;
  grad_norm_ += grad_norm;
  ++steps_;
}

void StepWindow::add_sparse(int64_t unique_rows, int64_t bytes_sent) {
  unique_rows_ += static_cast<double>(unique_rows);
  sparse_bytes_ += static_cast<double>(bytes_sent);
}

void StepWindow::flush(core::Communicator& comm, core::Watchdog* watchdog, const GradSyncStats& now,
                       int64_t epoch, int64_t step, int64_t total_steps, double lr,
                       MetricsLog* log) {
  if (steps_ == 0) return;
  const double n = static_cast<double>(steps_);
  const double ms = 1000.0 * seconds_ / n;
  std::vector<double> all;  // per rank: ms/step, resident MiB
  {
    core::WatchdogScope w(watchdog, fmt::format("log all-gather, step {}", step));
    all = core::allgatherv(comm, std::vector<double>{ms, resident_mb()});
  }
  std::vector<double> all_ms, all_rss;
  for (size_t i = 0; i + 1 < all.size(); i += 2) {
    all_ms.push_back(all[i]);
    all_rss.push_back(all[i + 1]);
  }
  const double comm_ms = 1000.0 * (now.comm_seconds - stats0_.comm_seconds) / n;
  const double wait_ms = 1000.0 * (now.wait_seconds - stats0_.wait_seconds) / n;
  const double sps = sequences_ * comm.world() / seconds_;
  core::log0(
      "epoch {:3d} step {:7d}/{} loss {:.4f} lr {:.2e} gnorm {:.3f} ms/step {:.1f} "
      "seq/s {:.0f}",
      epoch, step, total_steps, loss_ / n, lr, grad_norm_ / n, ms, sps);
  if (log) {
    log->write({{"kind", "train"},
                {"epoch", epoch},
                {"step", step},
                {"loss", loss_ / n},
                {"lr", lr},
                {"grad_norm", grad_norm_ / n},
                {"ms_per_step", ms},
                {"seq_per_s", sps},
                {"rank_ms_per_step", all_ms},
                {"rank_rss_mb", all_rss},
                {"comm_ms_per_step", comm_ms},
                {"wait_ms_per_step", wait_ms},
                {"unique_rows_per_step", unique_rows_ / n},
                {"sparse_bytes_per_step", sparse_bytes_ / n},
                {"dense_bytes_per_step",
                 static_cast<double>(now.bytes_reduced - stats0_.bytes_reduced) / n}});
  }
  stats0_ = now;
  seconds_ = sequences_ = loss_ = grad_norm_ = unique_rows_ = sparse_bytes_ = 0;
  steps_ = 0;
}

}  // namespace divrec::trainer
