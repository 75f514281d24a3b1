// Rank-aware logging: log0 prints on rank 0 only, log_all prefixes "[rank/world]" on every rank,
// log_error goes to stderr with the rank. Progress prints a rate + ETA line for long loops.
// All output is line-buffered and written in one call, so lines of different ranks never interleave.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace divrec::core {

// Set once after the communicator is up; before that everything logs as rank 0 of 1.
void set_log_rank(int rank, int world);
int log_rank();
int log_world();
// Quiet mode (tests): log0/log_all print nothing; errors still print.
void set_log_quiet(bool quiet);

void write_line(const std::string& line, bool to_stderr = false);

template <typename... Args>
void log0(fmt::format_string<Args...> f, Args&&... args) {
  if (log_rank() == 0) write_line(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
void log_all(fmt::format_string<Args...> f, Args&&... args) {
  write_line(fmt::format("[{}/{}] ", log_rank(), log_world()) +
             fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  write_line(fmt::format("[{}/{}] ERROR: ", log_rank(), log_world()) +
                 fmt::format(f, std::forward<Args>(args)...),
             /*to_stderr=*/true);
}

// "12.3 s", "4 min 05 s", "1 h 02 min" for ETAs and durations.
std::string format_duration(double seconds);

// Prints "<what>: done/total (pct) rate/s, ETA t" on rank 0 at most every interval_s seconds,
// and a final line on finish(). Cheap to call per item.
class Progress {
 public:
  Progress(std::string what, int64_t total, double interval_s = 5.0);
  void advance(int64_t n = 1);
  void finish();
  int64_t done() const { return done_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::string what_;
  int64_t total_;
  int64_t done_ = 0;
  double interval_s_;
  Clock::time_point start_;
  Clock::time_point last_print_;
  bool finished_ = false;
};

}  // namespace divrec::core
