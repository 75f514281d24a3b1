// `divrec serve`: the HTTP/JSON recommendation server over one serving artifact. SIGTERM/SIGINT
// drain in-flight requests and exit 0; SIGHUP (or --reload when the file changes) swaps in the
// artifact at --model again without dropping requests.
#include <fmt/format.h>

#include "core/check.h"
#include "core/log.h"
#include "core/threads.h"
#include "launcher/commands.h"
#include "launcher/retrieval_options.h"
#include "serving/http_server.h"
#include "serving/lifecycle.h"

namespace divrec::launcher {

int cmd_serve(const Args& args) {
  // First, before any thread exists: every thread inherits the mask, so these signals wait for
  // the serving loop instead of killing the process mid-request.
  serving::block_serving_signals();

  std::string model_path, precision = "fp32";
  serving::ServerOptions so;
  serving::LifecycleOptions lo;
  serving::FairnessOnline fo;
  int max_body = static_cast<int>(so.max_body_bytes);
  po::options_description d;
  // clang-format off
  d.add_options()
    ("model", po::value(&model_path)->required(), "serving artifact (divrec export)")
    ("host", po::value(&so.host)->default_value(so.host), "address to listen on")
    ("port", po::value(&so.port)->default_value(so.port), "TCP port (0 = any free port)")
    ("threads", po::value(&so.threads)->default_value(so.threads), "worker threads (one connection each)")
    ("score-precision", po::value(&precision)->default_value(precision), "fp32 | bf16: item matrix of the scoring kernel (as given to divrec eval)")
    ("max-k", po::value(&so.limits.max_k)->default_value(so.limits.max_k), "largest k a request may ask for")
    ("max-history", po::value(&so.limits.max_history)->default_value(so.limits.max_history), "longest history accepted")
    ("max-candidates", po::value(&so.limits.max_candidates)->default_value(so.limits.max_candidates), "largest candidate count accepted")
    ("max-body-bytes", po::value(&max_body)->default_value(max_body), "larger request bodies get 413")
    ("fairness-online", po::bool_switch(&fo.enabled), "keep adapting the artifact's exposure multipliers to the traffic (lists then depart from eval's)")
    ("fairness-online-every", po::value(&fo.every)->default_value(fo.every), "--fairness-online: lists served between two dual steps")
    ("read-timeout-ms", po::value(&so.read_timeout_ms)->default_value(so.read_timeout_ms), "drop a connection that stalls this long in the middle of a request")
    ("write-timeout-ms", po::value(&so.write_timeout_ms)->default_value(so.write_timeout_ms), "drop a connection that accepts no response bytes for this long")
    ("idle-timeout", po::value(&so.idle_timeout_s)->default_value(so.idle_timeout_s), "seconds a connection may stay silent before a request (its first one included)")
    ("keep-alive-max", po::value(&so.keep_alive_max)->default_value(so.keep_alive_max), "requests per connection before the server closes it")
    ("reload", po::bool_switch(&lo.poll_reload), "reload when the artifact file changes (mtime/size)")
    ("reload-interval", po::value(&lo.poll_interval_s)->default_value(lo.poll_interval_s), "seconds between --reload checks");
  // clang-format on
  RetrievalArgs ra;
  add_retrieval_options(d, ra, "auto");
  po::variables_map vm;
  if (!parse_options("serve", args, d, vm)) return 0;
  const eval::RetrievalOptions retrieval = resolve_retrieval(ra);
  DIVREC_CHECK(max_body >= 64, "--max-body-bytes must be >= 64, got ", max_body);
  so.max_body_bytes = static_cast<size_t>(max_body);
  core::configure_threads(1);  // request threads are the parallelism; one torch thread each

  core::log0("{}", format_config_table("divrec serve", vm));
  // The server listens (and /healthz answers) only after the artifact and its index loaded.
  auto model = serving::Recommender::load(
      model_path, model::parse_score_precision(precision, "--score-precision"), retrieval, fo);
  serving::HttpServer server(model, model_path, so);
  int port = server.start();
  core::log0(
      "serve: '{}' ({} items, checksum {:#010x}, {} retrieval) on http://{}:{} with {} threads; "
      "POST /v1/recommend, GET /healthz, GET /v1/model",
      model_path, model->num_items(), model->artifact().checksum,
      model->candidates().ann() ? "ann" : "exact", so.host, port, so.threads);
  serving::run_until_signal(server, lo);
  return 0;
}

}  // namespace divrec::launcher
