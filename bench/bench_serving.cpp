// Serving load benchmark: a 12,101-item catalog (the Amazon Beauty item table converted as
// `divrec shard convert --format amazon-s3rec` does, when ../shared/data is present; else a
// synthetic catalog of that size), a SASRec-sized model (dim 64, 2 blocks, max_len 50), and
//   - in-process latency of one request on one core (no HTTP) for k=10 with none / mmr / dpp,
//   - loopback HTTP with several keep-alive httplib clients: requests/s, p50/p99 latency.
// Bounded in time and request count. One JSON line per measurement on stdout.
//   bench_serving [--seconds S] [--requests N] [--connections C] [--server-threads T]
//                 [--data DIR] [--candidates N] [--precision fp32|bf16]
// With --items N (catalog scale): a synthetic catalog of N items and only the in-process dpp
// latency, plus load time, resident memory and recall of the exact top-candidates against a
// double-precision reference ({"stage": "serve", ...}). --workdir DIR keeps the data and the
// artifact there (made when missing); --prepare 1 only makes them, so a fresh process measures
// the artifact's load and resident memory alone; --rewrite 1 re-writes an existing artifact with
// this build's layout (keeping its ANN index record).
#include <httplib.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/check.h"
#include "core/log.h"
#include "core/threads.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "serving/http_server.h"
#include "serving/recommender.h"
#include "trainer/model/catalog_sizes.h"

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
  std::string data;   // an amazon-s3rec directory; default ../shared/data/amazon-beauty
  int64_t items = 0;  // > 0: catalog-scale mode on a synthetic catalog of this size
  std::string precision = "fp32";
  std::string workdir;   // scale mode: keep data + artifact here
  bool prepare = false;  // scale mode: make them and exit
  bool rewrite = false;  // scale mode: read the artifact and write it again with this build
  // Scale mode: exact | ann. ann: --prepare also builds the index (--ann-kind hnsw: M,
  // efConstruction; ivf: nlist) beside the artifact; requests search it with ef_search (nprobe)
  // for max(ann_candidates, candidates) + |history| items and re-score them exactly.
  std::string retrieval = "exact";
  std::string ann_kind = "auto";  // ivf from 1 M items (eval::kIvfAutoMinItems), hnsw below
  int ef_search = 384;
  int hnsw_m = 16;
  int ef_construction = 100;
  int ivf_nlist = 0;  // 0: 4 sqrt(items)
  int nprobe = 0;     // 0: sqrt(lists) (eval::auto_nprobe)
  std::string ivf_scan = "divrec";  // or faiss: Faiss's own (scalar) list scan, for comparison
  int ann_candidates = eval::kAnnMinCandidates;
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
    else if (k == "--items")
      a.items = std::atoll(v.c_str());
    else if (k == "--precision")
      a.precision = v;
    else if (k == "--workdir")
      a.workdir = v;
    else if (k == "--prepare")
      a.prepare = v == "1";
    else if (k == "--rewrite")
      a.rewrite = v == "1";
    else if (k == "--retrieval")
      a.retrieval = v;
    else if (k == "--ef-search")
      a.ef_search = std::atoi(v.c_str());
    else if (k == "--hnsw-m")
      a.hnsw_m = std::atoi(v.c_str());
    else if (k == "--ef-construction")
      a.ef_construction = std::atoi(v.c_str());
    else if (k == "--ann-kind")
      a.ann_kind = v;
    else if (k == "--ivf-nlist")
      a.ivf_nlist = std::atoi(v.c_str());
    else if (k == "--ivf-scan")
      a.ivf_scan = v;
    else if (k == "--nprobe")
      a.nprobe = std::atoi(v.c_str());
    else if (k == "--ann-candidates")
      a.ann_candidates = std::atoi(v.c_str());
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
  if (args.items == 0 && fs::exists(src + "/Beauty.txt")) {
    data::write_dataset(data::convert_amazon_s3rec({src, false}), wo);
    return "amazon-beauty";
  }
  data::SyntheticOptions so;
  so.users = std::max<int64_t>(20000, args.items * 11 / 90 + 1);  // events >= items
  so.items = args.items > 0 ? args.items : 12101;
  so.cover_items = true;  // the catalog really has that many items
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
  model::ModelConfig c = model::with_catalog_sizes(model::ModelConfig{}, items);
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
    a.weights.push_back(p.value().detach().contiguous());  // shares storage: no second copy
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

// Latencies (ms) of in-process requests over `hist` after `warmup` unmeasured ones (scratch
// buffers, allocator, caches), bounded by args.requests and args.seconds; *cpu_ms: process CPU
// time per request. Empty when a list comes back short of k = 10.
std::vector<double> time_requests(const serving::Recommender& rec, serving::RecommendRequest req,
                                  const std::vector<std::vector<std::string>>& hist, int warmup,
                                  const Args& args, double* cpu_ms) {
  for (int i = 0; i < warmup; ++i) {
    req.history = hist[i % hist.size()];
    rec.recommend(req);
  }
  std::vector<double> ms;
  const auto t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  for (int64_t i = 0; i < args.requests; ++i) {
    req.history = hist[i % hist.size()];
    auto a = Clock::now();
    auto r = rec.recommend(req);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    if (r.items.size() != 10) return {};
    if (std::chrono::duration<double>(Clock::now() - t0).count() > args.seconds) break;
  }
  *cpu_ms = 1e3 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC /
            static_cast<double>(ms.size());
  return ms;
}

double rss_mb() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;  // kB
  }
  return 0;
}

// Builds the ANN index over the artifact's item vectors (all cores) beside it and records it in
// the artifact, as `divrec export --retrieval ann` does (an index of another kind is replaced).
// Prints the build time on stderr.
void add_ann_index(const std::string& model_path, const Args& args) {
  auto a = serving::read_artifact(model_path);
  eval::AnnBuildOptions o;
  o.kind = eval::resolve_ann_kind(eval::parse_ann_kind(args.ann_kind), a.item_vectors.size(0));
  if (a.ann_index.present() && a.ann_index.kind == o.kind) return;  // another kind: replaced
  o.hnsw_m = args.hnsw_m;
  o.ef_construction = args.ef_construction;
  o.ivf_nlist = args.ivf_nlist;
  // Every core, as `divrec export` does (main() set OpenMP's default to the one request thread).
  o.build_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto t0 = Clock::now();
  const auto& v = a.item_vectors;
  auto index = eval::AnnIndex::build(v.data_ptr<float>(), v.size(0), v.size(1), o);
  std::cerr << "bench_serving: " << eval::ann_kind_name(o.kind) << " (HNSW M " << o.hnsw_m
            << " efConstruction " << o.ef_construction << ", IVF nlist " << o.ivf_nlist << ") over "
            << v.size(0) << " items built in "
            << std::chrono::duration<double>(Clock::now() - t0).count() << " s\n";
  a.ann_index = eval::save_ann_beside(index, model_path);
  serving::write_artifact(model_path, a);
}

// Catalog-scale mode (--items): in-process dpp latency (k = 10, one core) of exact or ANN
// retrieval (--retrieval).
int run_scale(const Args& args) {
  const std::string dir = args.workdir.empty()
                              ? (fs::temp_directory_path() / "divrec_bench_serving_scale").string()
                              : args.workdir;
  const std::string model_path = dir + "/model.h5";
  if (!fs::exists(model_path)) {
    fs::create_directories(dir);
    make_dataset(args, dir + "/data");
    make_artifact(dir + "/data", model_path + ".tmp");
    fs::rename(model_path + ".tmp", model_path);
  }
  eval::RetrievalOptions retrieval;
  retrieval.mode = eval::parse_retrieval_mode(args.retrieval, "--retrieval");
  retrieval.search.ef_search = args.ef_search;
  retrieval.search.nprobe = args.nprobe;
  DIVREC_CHECK_HINT(args.ivf_scan == "divrec" || args.ivf_scan == "faiss", "divrec or faiss",
                    "--ivf-scan ", args.ivf_scan);
  retrieval.search.ivf_scan =
      args.ivf_scan == "faiss" ? eval::IvfScan::kFaiss : eval::IvfScan::kDivrec;
  retrieval.min_candidates = args.ann_candidates;
  if (args.prepare) {
    if (retrieval.mode == eval::RetrievalMode::kAnn) add_ann_index(model_path, args);
    return 0;
  }
  if (args.rewrite) {  // same contents (and index record) in this build's file layout
    serving::Artifact a = serving::read_artifact(model_path);
    serving::write_artifact(model_path, a);
    return 0;
  }
  const auto precision = model::parse_score_precision(args.precision, "--precision");
  auto t0 = Clock::now();
  auto rec = serving::Recommender::load(model_path, precision, retrieval);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double loaded_rss_mb = rss_mb();  // the server's memory, before this bench's own data
  auto hist = histories(dir + "/data", rec->items());
  serving::RecommendRequest req;
  req.settings = settings_for("dpp", args.candidates);
  double cpu_ms = 0;
  const std::vector<double> ms = time_requests(*rec, req, hist, 5, args, &cpu_ms);
  if (ms.empty()) return 1;
  // Recall of the served candidates against a double-precision top-N of the same user vector
  // (history removed) over the fp32 item vectors, for up to 20 histories. The vectors are read
  // through the Recommender (with fp32 scoring its panels are the only copy) in blocks of 2^20
  // items, each block scored for every user at once (no float64 copy of a 10 M-item matrix).
  const int64_t I = rec->num_items(), D = rec->artifact().config.dim;
  const int64_t U = static_cast<int64_t>(std::min<size_t>(20, hist.size()));
  std::vector<std::vector<int32_t>> dense(static_cast<size_t>(U));
  auto users = torch::empty({U, D}, torch::kFloat32);
  for (int64_t u = 0; u < U; ++u) {
    for (const auto& raw : hist[u]) dense[u].push_back(rec->dense_id(raw));
    rec->user_vector(dense[u].data(), static_cast<int64_t>(dense[u].size()),
                     users.data_ptr<float>() + u * D);
  }
  auto s = torch::empty({U, I}, torch::kFloat64);
  const auto users64 = users.to(torch::kFloat64).t();
  auto block = torch::empty({int64_t{1} << 20, D}, torch::kFloat32);
  for (int64_t lo = 0; lo < I; lo += block.size(0)) {
    const int64_t len = std::min<int64_t>(block.size(0), I - lo);
    for (int64_t i = 0; i < len; ++i) {
      rec->item_vector(static_cast<int32_t>(lo + i), block.data_ptr<float>() + i * D);
    }
    s.narrow(1, lo, len).copy_(block.narrow(0, 0, len).to(torch::kFloat64).mm(users64).t());
  }
  double hit = 0, total = 0;
  for (int64_t u = 0; u < U; ++u) {
    for (int32_t h : dense[u]) s[u][h] = -std::numeric_limits<double>::infinity();
    auto ref = std::get<1>(s[u].topk(args.candidates)).to(torch::kInt64);
    std::vector<int32_t> got;
    std::vector<float> got_scores;
    rec->top_candidates(dense[u].data(), static_cast<int64_t>(dense[u].size()), args.candidates,
                        got, got_scores);
    std::sort(got.begin(), got.end());
    for (int64_t r = 0; r < ref.size(0); ++r) {
      hit +=
          std::binary_search(got.begin(), got.end(), static_cast<int32_t>(ref[r].item<int64_t>()));
    }
    total += static_cast<double>(ref.size(0));
  }
  json j = {{"stage", "serve"},
            {"items", rec->num_items()},
            {"retrieval", rec->candidates().ann() ? "ann" : "exact"},
            {"precision", args.precision},
            {"method", "dpp"},
            {"k", 10},
            {"candidates", args.candidates},
            {"dim", 64},
            {"threads", 1},
            {"requests", ms.size()},
            {"p50_ms", pct(ms, 0.5)},
            {"p99_ms", pct(ms, 0.99)},
            {"cpu_ms_per_request", cpu_ms},  // robust on a shared machine
            {"recall_at_" + std::to_string(args.candidates), hit / total},
            {"load_s", load_s},
            {"load_phases_s", rec->describe()["load_seconds"]},
            {"rss_mb", loaded_rss_mb},
            {"score_table_mb", rec->score_table_bytes() / 1048576.0}};
  if (rec->candidates().ann()) {
    const auto& built = rec->candidates().index()->options();
    j["ann_kind"] = eval::ann_kind_name(rec->candidates().index()->kind());
    j["ann_candidates"] = args.ann_candidates;
    if (built.kind == eval::AnnKind::kIvfFlat) {
      j["nprobe"] = rec->candidates().index()->nprobe_for(retrieval.search);
      j["ivf_scan"] = args.ivf_scan;
      j["ivf_nlist"] = built.ivf_nlist;
    } else {
      j["ef_search"] = args.ef_search;
      j["hnsw_m"] = built.hnsw_m;
      j["ef_construction"] = built.ef_construction;
    }
    j["index_load_s"] = rec->candidates().load_seconds();
  }
  std::cout << j.dump() << std::endl;
  if (args.workdir.empty()) fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  core::set_log_quiet(true);
  core::configure_threads(1);
  if (args.items > 0) return run_scale(args);
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
    double cpu_ms = 0;
    const std::vector<double> ms = time_requests(*rec, req, hist, 50, args, &cpu_ms);
    if (ms.empty()) return 1;
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
