// A watchdog for collectives: arm("allreduce of gradients, step 120") before a collective and
// disarm() after; if it stays armed longer than the timeout, the callback runs (the launcher's
// callback logs the step and aborts the job) instead of the job hanging forever.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace divrec::core {

class Watchdog {
 public:
  using Callback = std::function<void(const std::string& what, double waited_s)>;
  Watchdog(double timeout_s, Callback on_timeout);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(const std::string& what);
  void disarm();
  double timeout_s() const { return timeout_s_; }

 private:
  void run();
  double timeout_s_;
  Callback on_timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool stop_ = false;
  std::string what_;
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;
};

// RAII arm/disarm; a null watchdog is allowed (no timeout configured).
class WatchdogScope {
 public:
  WatchdogScope(Watchdog* w, const std::string& what) : w_(w) {
    if (w_) w_->arm(what);
  }
  ~WatchdogScope() {
    if (w_) w_->disarm();
  }

 private:
  Watchdog* w_;
};

}  // namespace divrec::core
