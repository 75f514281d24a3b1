// Collective watchdog (see watchdog.h).
#include "core/watchdog.h"

namespace divrec::core {

Watchdog::Watchdog(double timeout_s, Callback on_timeout)
    : timeout_s_(timeout_s), on_timeout_(std::move(on_timeout)), thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::arm(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  what_ = what;
  since_ = std::chrono::steady_clock::now();
  cv_.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stop_ || !armed_) continue;
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
    if (waited > timeout_s_) {
      std::string what = what_;
      armed_ = false;
      lock.unlock();
      on_timeout_(what, waited);
      lock.lock();
    }
  }
}

}  // namespace divrec::core
