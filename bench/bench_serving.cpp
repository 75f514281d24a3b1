// Serving load benchmark: a 12,101-item catalog (the Amazon Beauty item table converted as
// `divrec shard convert --format amazon-s3rec` does, when ../shared/data is present; else a
// synthetic catalog of that size), a SASRec-sized model (dim 64, 2 blocks, max_len 50), and
//   - in-process latency of one request on one core (no HTTP) for k=10 with none / mmr / dpp,
//   - loopback HTTP with several keep-alive httplib clients: requests/s, p50/p99 latency.
// Bounded in time and request count. One JSON line per measurement on stdout.
//   bench_serving [--seconds S] [--requests N] [--connections C] [--server-threads T]
//                 [--data DIR] [--candidates N]
#include <httplib.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/threads.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "serving/http_server.h"
#include "serving/recommender.h"

namespace fs = std::filesystem;
using namespace divrec;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  double seconds = 4;
  int64_t requests = 20000;  // per measurement, at most
  int connections = 4;
  int server_threads = 4;
  int candidates = 200;
  std::string data;  // an amazon-s3rec directory; default ../shared/data/amazon-beauty
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--seconds")
      a.seconds = std::atof(v.c_str());
    else if (k == "--requests")
      a.requests = std::atoll(v.c_str());
    else if (k == "--connections")
      a.connections = std::atoi(v.c_str());
    else if (k == "--server-threads")
      a.server_threads = std::atoi(v.c_str());
    else if (k == "--candidates")
      a.candidates = std::atoi(v.c_str());
    else if (k == "--data")
      a.data = v;
    else {
      std::cerr << "bench_serving: unknown option " << k << "\n";
      std::exit(2);
    }
  }
  return a;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// The dataset (converted into `dir`) and where it came from.
std::string make_dataset(const Args& args, const std::string& dir) {
  std::string src = args.data;
  if (src.empty()) {
    const char* env = std::getenv("DIVREC_SHARED_DATA");
    src = std::string(env ? env : "../shared/data") + "/amazon-beauty";
  }
  data::WriteOptions wo;
  wo.output_dir = dir;
  fs::remove_all(dir);
  if (fs::exists(src + "/Beauty.txt")) {
    data::write_dataset(data::convert_amazon_s3rec({src, false}), wo);
    return "amazon-beauty";
  }
  data::SyntheticOptions so;
  so.users = 20000;
  so.items = 12101;
  so.categories = 40;
  so.attributes = 637;
  so.mean_length = 9;
  so.content_dim = 0;
  data::write_dataset(data::convert_synthetic(so), wo);
  return "synthetic";
}

// A randomly initialised SASRec-sized model over the catalog, as an artifact file.
std::string make_artifact(const std::string& data_dir, const std::string& path) {
  auto items = data::read_item_table(data_dir);
  model::ModelConfig c;
  c.num_items = items.num_items;
  c.num_categories = items.num_categories;
  c.num_attributes = items.num_attributes;
  c.content_dim = items.content_dim;
  c.dim = 64;
  c.layers = 2;
  c.heads = 2;
  c.max_len = 50;
  torch::manual_seed(1);
  model::SeqModel m(c, model::ItemFeatures::from_table(items));
  m->eval();
  serving::Artifact a;
  a.config = c;
  torch::NoGradGuard ng;
  for (const auto& p : m->named_parameters()) {
    a.weight_names.push_back(p.key());
    a.weights.push_back(p.value().detach().contiguous().clone());
  }
  a.item_vectors = m->item_vectors().contiguous();
  a.items = std::move(items);
  serving::write_artifact(path, a);
  return path;
}

// Real histories (test-split prefixes, raw ids) of the dataset's users.
std::vector<std::vector<std::string>> histories(const std::string& data_dir,
                                                const data::ItemTable& items) {
  auto seqs = data::read_all_users(data_dir);
  std::vector<std::vector<std::string>> out;
  for (int64_t u = 0; u < seqs.num_users(); ++u) {
    std::vector<std::string> h;
    int64_t end = seqs.history_end(u, data::Split::kTest);
    for (int64_t i = 0; i < end; ++i) h.push_back(items.raw_ids[seqs.seq(u)[i]]);
    if (!h.empty()) out.push_back(std::move(h));
  }
  std::shuffle(out.begin(), out.end(), std::mt19937(7));
  return out;
}

serving::RecommendSettings settings_for(const std::string& method, int candidates) {
  serving::RecommendSettings s;
  s.k = 10;
  s.candidates = candidates;
  s.rerank.method = eval::parse_rerank_method(method);
  s.rerank.lambda = 0.5;
  s.rerank.theta = 1.0;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  core::set_log_quiet(true);
  core::configure_threads(1);
  const std::string dir =
      (fs::temp_directory_path() / ("divrec_bench_serving_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string source = make_dataset(args, dir + "/data");
  const std::string model_path = make_artifact(dir + "/data", dir + "/model.h5");
  auto rec = serving::Recommender::load(model_path);
  auto hist = histories(dir + "/data", rec->items());
  const json base = {{"bench", "serving"},
                     {"catalog", rec->num_items()},
                     {"source", source},
                     {"k", 10},
                     {"candidates", args.candidates},
                     {"dim", 64},
                     {"layers", 2},
                     {"max_len", 50}};

  // In-process, one thread = one core.
  for (const std::string method : {"none", "mmr", "dpp"}) {
    serving::RecommendRequest req;
    req.settings = settings_for(method, args.candidates);
    for (int i = 0; i < 50; ++i) {  // warm-up: scratch buffers, allocator, caches
      req.history = hist[i % hist.size()];
      rec->recommend(req);
    }
    std::vector<double> ms;
    auto t0 = Clock::now();
    for (int64_t i = 0; i < args.requests; ++i) {
      req.history = hist[i % hist.size()];
      auto a = Clock::now();
      auto r = rec->recommend(req);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      if (r.items.size() != 10) return 1;
      if (std::chrono::duration<double>(Clock::now() - t0).count() > args.seconds) break;
    }
    json j = base;
    j.update({{"mode", "in-process"},
              {"method", method},
              {"threads", 1},
              {"requests", ms.size()},
              {"p50_ms", pct(ms, 0.5)},
              {"p99_ms", pct(ms, 0.99)},
              {"max_ms", pct(ms, 1.0)}});
    std::cout << j.dump() << std::endl;
  }

  // Loopback HTTP.
  serving::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.threads = args.server_threads;
  serving::HttpServer server(rec, model_path, so);
  const int port = server.start();
  for (const std::string method : {"none", "mmr", "dpp"}) {
    std::vector<std::string> bodies;
    for (size_t i = 0; i < std::min<size_t>(hist.size(), 4096); ++i) {
      json b = {{"history", hist[i]},
                {"k", 10},
                {"candidates", args.candidates},
                {"rerank", {{"method", method}, {"lambda", 0.5}, {"theta", 1.0}}}};
      bodies.push_back(b.dump());
    }
    std::atomic<int64_t> issued{0}, failed{0};
    std::vector<std::vector<double>> lat(args.connections);
    auto t0 = Clock::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < args.connections; ++c) {
      clients.emplace_back([&, c] {
        httplib::Client cli("127.0.0.1", port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        for (int64_t i; (i = issued++) < args.requests;) {
          if (std::chrono::duration<double>(Clock::now() - t0).count() > args.seconds) break;
          auto a = Clock::now();
          auto res = cli.Post("/v1/recommend", bodies[i % bodies.size()], "application/json");
          lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
          if (!res || res->status != 200) ++failed;
        }
      });
    }
    for (auto& t : clients) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    json j = base;
    j.update({{"mode", "http"},
              {"method", method},
              {"connections", args.connections},
              {"server_threads", args.server_threads},
              {"requests", all.size()},
              {"failed", failed.load()},
              {"seconds", secs},
              {"requests_per_s", static_cast<double>(all.size()) / secs},
              {"p50_ms", pct(all, 0.5)},
              {"p99_ms", pct(all, 0.99)}});
    std::cout << j.dump() << std::endl;
  }
  server.stop();
  fs::remove_all(dir);
  return 0;
}
