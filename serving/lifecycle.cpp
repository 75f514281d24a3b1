// Signal-driven serving loop (see lifecycle.h).
#include "serving/lifecycle.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/check.h"
#include "core/log.h"

namespace divrec::serving {

namespace {

sigset_t serving_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// mtime + size of the artifact; a rename by `divrec export` changes at least the mtime.
struct FileStamp {
  std::filesystem::file_time_type mtime{};
  uintmax_t size = 0;
  bool exists = false;
  bool operator!=(const FileStamp& o) const {
    return mtime != o.mtime || size != o.size || exists != o.exists;
  }
};

FileStamp stamp_of(const std::string& path) {
  FileStamp s;
  std::error_code ec;
  s.mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return s;
  s.size = std::filesystem::file_size(path, ec);
  s.exists = !ec;
  return s;
}

}  // namespace

void block_serving_signals() {
  sigset_t set = serving_signals();
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  DIVREC_CHECK(rc == 0, "pthread_sigmask failed: ", std::strerror(rc));
}

int run_until_signal(HttpServer& server, const LifecycleOptions& options,
                     const std::atomic<bool>* stop) {
  DIVREC_CHECK(options.poll_interval_s > 0, "reload poll interval must be positive");
  const sigset_t set = serving_signals();
  FileStamp last = stamp_of(server.model_path());
  const double slice = options.poll_interval_s;
  timespec ts;
  ts.tv_sec = static_cast<time_t>(slice);
  ts.tv_nsec = static_cast<long>((slice - std::floor(slice)) * 1e9);
  int ended_by = 0;
  while (!(stop && stop->load())) {
    siginfo_t info;
    int sig = sigtimedwait(&set, &info, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      ended_by = sig;
      core::log0("serve: {} received, draining in-flight requests",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (sig == SIGHUP) {
      core::log0("serve: SIGHUP received, reloading '{}'", server.model_path());
      server.reload();
      last = stamp_of(server.model_path());
      continue;
    }
    DIVREC_CHECK(sig < 0 && (errno == EAGAIN || errno == EINTR),
                 "sigtimedwait failed: ", std::strerror(errno));
    if (options.poll_reload) {
      FileStamp now = stamp_of(server.model_path());
      if (now.exists && now != last) {
        core::log0("serve: '{}' changed, reloading", server.model_path());
        server.reload();  // a failed load keeps the old model; a later change tries again
        last = now;
      }
    }
  }
  server.stop();
  core::log0("serve: stopped after {} requests", server.requests());
  return ended_by;
}

}  // namespace divrec::serving
