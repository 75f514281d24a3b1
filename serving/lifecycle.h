// The serving process's life: SIGTERM/SIGINT drain and stop, SIGHUP (or a changed artifact file
// when polling) reloads. Signals are taken synchronously with sigtimedwait on one thread, so no
// work happens in a signal handler and request threads are never interrupted.
#pragma once

#include <atomic>

#include "serving/http_server.h"

namespace divrec::serving {

struct LifecycleOptions {
  bool poll_reload = false;      // --reload: reload when the artifact's mtime or size changes
  double poll_interval_s = 1.0;  // how often to look (also the signal wait slice)
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread. Call it first thing in main's thread,
// before any other thread exists, so every thread inherits the mask and the signals queue for
// run_until_signal instead of killing the process.
void block_serving_signals();

// Serves until SIGTERM or SIGINT (or *stop becomes true, checked every poll interval): SIGHUP
// and, with poll_reload, a changed artifact call server.reload(). Then stops the server,
// draining in-flight requests, and returns the signal number (0 when stopped through *stop).
// The calling thread must have the signals blocked (block_serving_signals).
int run_until_signal(HttpServer& server, const LifecycleOptions& options,
                     const std::atomic<bool>* stop = nullptr);

}  // namespace divrec::serving
