// HttpServer (see http_server.h): routes, JSON errors for every 4xx/5xx, the atomic model swap,
// and start/stop around cpp-httplib's accept loop and worker pool.
#include "serving/http_server.h"

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/log.h"

namespace divrec::serving {

namespace {

using nlohmann::json;

// Request-derived strings (unknown ids) may hold invalid UTF-8: replace, never throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string error_body(const std::string& message) { return dump(json{{"error", message}}); }

const char* kJson = "application/json";

}  // namespace

JsonReply handle_recommend(const Recommender& model, const std::string& body,
                           const RequestLimits& limits) {
  RecommendRequest request;
  try {
    request = parse_request(body, model.defaults(), limits);
  } catch (const std::exception& e) {
    return {400, error_body(message_of(e))};
  }
  try {
    json out = to_json(model.recommend(request));
    out["model_checksum"] = fmt::format("{:#010x}", model.artifact().checksum);
    return {200, dump(out)};
  } catch (const std::exception& e) {
    core::log_error("recommend failed: {}", e.what());
    return {500, error_body(std::string("internal error: ") + message_of(e))};
  }
}

HttpServer::HttpServer(std::shared_ptr<const Recommender> model, std::string model_path,
                       ServerOptions options)
    : model_(std::move(model)),
      model_path_(std::move(model_path)),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {
  DIVREC_CHECK(model_ != nullptr, "HttpServer needs a loaded model");
  DIVREC_CHECK(options_.threads >= 1, "--threads must be >= 1, got ", options_.threads);
  DIVREC_CHECK(options_.max_body_bytes >= 64, "--max-body-bytes must be >= 64, got ",
               options_.max_body_bytes);
  DIVREC_CHECK(options_.read_timeout_ms >= 1 && options_.write_timeout_ms >= 1 &&
                   options_.idle_timeout_s >= 1 && options_.keep_alive_max >= 1,
               "--read-timeout-ms, --write-timeout-ms, --idle-timeout and --keep-alive-max must "
               "be >= 1");
  DIVREC_CHECK(options_.limits.max_k >= 1 && options_.limits.max_history >= 0 &&
                   options_.limits.max_candidates >= options_.limits.max_k,
               "server limits: need max_k >= 1, max_history >= 0, max_candidates >= max_k");
  install_routes();
}

HttpServer::~HttpServer() { stop(); }

std::shared_ptr<const Recommender> HttpServer::model() const { return std::atomic_load(&model_); }

void HttpServer::install_routes() {
  auto& s = *server_;
  const int threads = options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(options_.max_body_bytes);
  auto us = [](int ms) { return std::chrono::microseconds(int64_t{ms} * 1000); };
  s.set_read_timeout(us(options_.read_timeout_ms));
  s.set_write_timeout(us(options_.write_timeout_ms));
  s.set_keep_alive_timeout(options_.idle_timeout_s);
  s.set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max));
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add
  // ~40 ms to every keep-alive response.
  s.set_tcp_nodelay(true);

  s.Post("/v1/recommend", [this](const httplib::Request& req, httplib::Response& res) {
    auto m = model();  // this request keeps this model alive even if a reload swaps it out
    JsonReply reply = handle_recommend(*m, req.body, options_.limits);
    res.status = reply.status;
    res.set_content(reply.body, kJson);
    if (reply.status == 200) ++requests_;
  });
  s.Get("/v1/recommend", [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
    res.set_content(error_body("use POST /v1/recommend with a JSON body"), kJson);
  });
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    auto m = model();
    // The server only listens once the artifact and (with ANN retrieval) its index are loaded,
    // and a reload swaps both in at once, so "ok" always means a complete model.
    res.set_content(dump(json{{"status", "ok"},
                              {"items", m->num_items()},
                              {"retrieval", m->retrieval_json()},
                              {"model_checksum", fmt::format("{:#010x}", m->artifact().checksum)},
                              {"requests", requests_.load()}}),
                    kJson);
  });
  s.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
    auto m = model();
    json j = m->describe();
    j["path"] = model_path_;
    j["reloads"] = reloads_.load();
    res.set_content(dump(j), kJson);
  });

  // Every 4xx/5xx without a body (unknown route, 413 from the body limit, ...) gets a JSON one.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (res.status >= 400 && res.status < 500) ++bad_requests_;
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg;
        switch (res.status) {
          case 404:
            msg = "no such endpoint: " + req.method + " " + req.path +
                  " (POST /v1/recommend, GET /healthz, GET /v1/model)";
            break;
          case 413:
            msg = fmt::format("request body exceeds {} bytes (--max-body-bytes)",
                              options_.max_body_bytes);
            break;
          default:
            msg = fmt::format("HTTP {}", res.status);
        }
        res.set_content(error_body(msg), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string msg = "unknown error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          msg = message_of(e);
        } catch (...) {
        }
        core::log_error("request failed: {}", msg);
        res.status = 500;
        res.set_content(error_body("internal error: " + msg), kJson);
      });
}

int HttpServer::start() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  DIVREC_CHECK(!thread_.joinable(), "HttpServer::start: already started");
  // cpp-httplib sends without MSG_NOSIGNAL: a client that disconnects before reading its answer
  // would otherwise kill the whole process with SIGPIPE (process-wide, as any server must).
  std::signal(SIGPIPE, SIG_IGN);
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  DIVREC_CHECK_HINT(port > 0, "is the port in use, or the address not local?", "serve: cannot ",
                    "listen on ", options_.host, ":", options_.port);
  port_ = port;
  auto done = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([this, done] {
    server_->listen_after_bind();
    done->store(true);
  });
  // stop() only takes effect once the accept loop runs; wait for it (or for its failure).
  while (!server_->is_running() && !done->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port_;
}

void HttpServer::stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (!thread_.joinable()) return;
  server_->stop();  // closes the listening socket; the pool finishes in-flight requests
  thread_.join();
}

bool HttpServer::running() const { return server_->is_running(); }

bool HttpServer::reload(std::string* error) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  try {
    auto t0 = std::chrono::steady_clock::now();
    // The same --score-precision and --retrieval as the model it replaces.
    std::shared_ptr<const Recommender> fresh =
        Recommender::load(model_path_, model()->score_precision(), model()->candidates().options(),
                          model()->fairness_online());
    std::atomic_store(&model_, fresh);
    ++reloads_;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::log0("serve: reloaded '{}' in {:.2f} s (checksum {:#010x}, {} items)", model_path_, s,
               fresh->artifact().checksum, fresh->num_items());
    return true;
  } catch (const std::exception& e) {
    core::log_error("serve: reload of '{}' failed, still serving the previous model: {}",
                    model_path_, e.what());
    if (error) *error = e.what();
    return false;
  }
}

}  // namespace divrec::serving
