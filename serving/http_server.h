// HttpServer: the HTTP/JSON front of a Recommender (cpp-httplib): POST /v1/recommend,
// GET /healthz, GET /v1/model. Bad requests get 4xx with {"error": "..."}, never a crash. The
// model is a std::shared_ptr<const Recommender> swapped atomically by reload(), so requests in
// flight finish on the model they started with. stop() drains in-flight requests.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "serving/recommender.h"
#include "serving/request.h"

namespace httplib {
class Server;
}

namespace divrec::serving {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;                // 0 = an ephemeral port (see HttpServer::port())
  int threads = 4;                // worker threads (each holds one connection at a time)
  size_t max_body_bytes = 65536;  // larger bodies get 413
  RequestLimits limits;           // k, history length, candidates
  // A worker serves one connection at a time, so these bound how long a slow or silent client
  // can hold one: a connection that sends nothing before a request (its first one included) is
  // closed after idle_timeout_s; one that stalls mid-request for read_timeout_ms is dropped; a
  // connection is closed after keep_alive_max requests so waiting ones get a worker in turn.
  int read_timeout_ms = 2000;   // --read-timeout-ms
  int write_timeout_ms = 2000;  // --write-timeout-ms
  int idle_timeout_s = 2;       // --idle-timeout (cpp-httplib counts whole seconds)
  int keep_alive_max = 100;     // --keep-alive-max
};

class HttpServer {
 public:
  // model_path is what reload() reads again.
  HttpServer(std::shared_ptr<const Recommender> model, std::string model_path,
             ServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (throws naming host:port when it cannot) and serves on a background thread.
  // Returns the bound port.
  int start();
  // Stops accepting, lets in-flight requests finish, joins the workers. Idempotent.
  void stop();
  bool running() const;
  int port() const { return port_; }

  // Loads model_path afresh and swaps it in; in-flight requests keep the old model. On failure
  // the old model keeps serving, the error is logged and returned (false + *error).
  bool reload(std::string* error = nullptr);
  std::shared_ptr<const Recommender> model() const;
  const std::string& model_path() const { return model_path_; }

  uint64_t requests() const { return requests_.load(); }          // answered recommend requests
  uint64_t bad_requests() const { return bad_requests_.load(); }  // 4xx answers
  uint64_t reloads() const { return reloads_.load(); }            // successful swaps

 private:
  void install_routes();

  std::shared_ptr<const Recommender> model_;  // accessed with std::atomic_load / atomic_store
  std::string model_path_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex lifecycle_mutex_;  // start / stop
  std::mutex reload_mutex_;     // one reload at a time
  int port_ = -1;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> reloads_{0};
};

// The JSON body and status of a recommend call without HTTP (the server's handler, reusable by
// tests): 200 with the response document, 400 with {"error"} for a bad request, 500 otherwise.
struct JsonReply {
  int status = 200;
  std::string body;
};
JsonReply handle_recommend(const Recommender& model, const std::string& body,
                           const RequestLimits& limits);

}  // namespace divrec::serving
