// Rank-aware logging and progress lines (see log.h).
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace divrec::core {

namespace {
std::atomic<int> g_rank{0};
std::atomic<int> g_world{1};
std::atomic<bool> g_quiet{false};
std::mutex g_mutex;
}  // namespace

void set_log_rank(int rank, int world) {
  g_rank = rank;
  g_world = world;
}
int log_rank() { return g_rank; }
int log_world() { return g_world; }
void set_log_quiet(bool quiet) { g_quiet = quiet; }

void write_line(const std::string& line, bool to_stderr) {
  if (g_quiet && !to_stderr) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::FILE* out = to_stderr ? stderr : stdout;
  std::string s = line + "\n";
  std::fwrite(s.data(), 1, s.size(), out);
  std::fflush(out);
}

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds != seconds) return "?";
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s < 3600) return fmt::format("{} min {:02d} s", s / 60, s % 60);
  return fmt::format("{} h {:02d} min", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::string what, int64_t total, double interval_s)
    : what_(std::move(what)),
      total_(total),
      interval_s_(interval_s),
      start_(Clock::now()),
      last_print_(start_) {}

void Progress::advance(int64_t n) {
  done_ += n;
  auto now = Clock::now();
  if (std::chrono::duration<double>(now - last_print_).count() < interval_s_) return;
  last_print_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  double eta = rate > 0 ? (total_ - done_) / rate : -1.0;
  log0("{}: {}/{} ({:.1f}%) {:.1f}/s, ETA {}", what_, done_, total_,
       total_ > 0 ? 100.0 * done_ / total_ : 100.0, rate, format_duration(eta));
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  log0("{}: {}/{} done in {} ({:.1f}/s)", what_, done_, total_, format_duration(elapsed),
       elapsed > 0 ? done_ / elapsed : 0.0);
}

}  // namespace divrec::core
