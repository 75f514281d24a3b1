// Approximate retrieval benchmark: deterministic clustered item vectors [I, dim] (planted
// clusters), a Faiss HNSW (or IVF-flat) index built with all cores, then per efSearch (nprobe)
// single-thread latency p50/p99 of one-user searches for k and recall@k against brute force
// (IVF: with divrec's list scan and with Faiss's own, "ivf_scan").
// One JSON line per measurement on stdout; progress on stderr.
//   bench_ann [--items 1000000,10000000] [--dim 64] [--queries 200] [--k 200] [--kind
//   hnsw|ivf|auto]
//             [--ef 16,32,64,128,256] [--nprobe 8,16,32,64] [--m 32] [--ef-construction 200]
//             [--clusters 1000] [--save DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/exact_topk.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string tok; std::getline(ss, tok, ',');) out.push_back(std::stoll(tok));
  return out;
}

// Rows of center[c] + 0.5 * N(0, 1) noise with centers ~ N(0, 1): cosine ~0.9 within a cluster.
// Seeded per row block, so items and queries are reproducible whatever the sizes.
std::vector<float> clustered(int64_t n, int64_t d, const std::vector<float>& centers,
                             uint64_t seed) {
  int64_t nc = static_cast<int64_t>(centers.size()) / d;
  std::vector<float> x(static_cast<size_t>(n) * d);
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < (n + 65535) / 65536; ++blk) {
    std::mt19937_64 rng(seed * 1000003 + blk);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_int_distribution<int64_t> pick(0, nc - 1);
    for (int64_t i = blk * 65536; i < std::min(n, (blk + 1) * 65536); ++i) {
      int64_t c = pick(rng);
      for (int64_t j = 0; j < d; ++j) x[i * d + j] = centers[c * d + j] + 0.5f * g(rng);
    }
  }
  return x;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> items_list = {1'000'000}, efs = {16, 32, 64, 128, 256},
                       nprobes = {8, 16, 32, 64};
  int64_t dim = 64, queries = 200, k = 200, clusters = 1000;
  divrec::eval::AnnBuildOptions opts;
  opts.kind = divrec::eval::AnnKind::kHnsw;  // --kind: hnsw (default) | ivf | auto
  std::string save_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--items")
      items_list = parse_list(v);
    else if (a == "--dim")
      dim = std::stoll(v);
    else if (a == "--queries")
      queries = std::stoll(v);
    else if (a == "--k")
      k = std::stoll(v);
    else if (a == "--kind")
      opts.kind = divrec::eval::parse_ann_kind(v);
    else if (a == "--ef")
      efs = parse_list(v);
    else if (a == "--nprobe")
      nprobes = parse_list(v);
    else if (a == "--m")
      opts.hnsw_m = std::stoi(v);
    else if (a == "--ef-construction")
      opts.ef_construction = std::stoi(v);
    else if (a == "--clusters")
      clusters = std::stoll(v);
    else if (a == "--save")
      save_dir = v;
    else {
      std::cerr << "bench_ann: unknown option " << a << "\n";
      return 2;
    }
  }
  try {
    std::mt19937_64 rng(42);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> centers(static_cast<size_t>(clusters) * dim);
    for (auto& c : centers) c = g(rng);
    std::vector<float> users = clustered(queries, dim, centers, 2);
    for (int64_t n : items_list) {
      auto t0 = Clock::now();
      std::vector<float> items = clustered(n, dim, centers, 1);
      std::cerr << "bench_ann: generated [" << n << ", " << dim << "] in " << seconds_since(t0)
                << " s\n";
      t0 = Clock::now();
      std::vector<int64_t> exact =
          divrec::eval::exact_top_k(users.data(), queries, items.data(), n, dim, k);
      std::cerr << "bench_ann: exact top-" << k << " in " << seconds_since(t0) << " s\n";
      t0 = Clock::now();
      divrec::eval::AnnIndex index = divrec::eval::AnnIndex::build(items.data(), n, dim, opts);
      double build_s = seconds_since(t0);
      double index_mb = index.memory_bytes() / 1e6;
      std::cerr << "bench_ann: built " << divrec::eval::ann_kind_name(index.kind()) << " in "
                << build_s << " s, " << index_mb << " MB\n";
      if (!save_dir.empty()) {
        t0 = Clock::now();
        index.save(save_dir + "/bench_" + std::to_string(n) + ".ann");
        std::cerr << "bench_ann: saved in " << seconds_since(t0) << " s\n";
      }
      bool hnsw = index.kind() == divrec::eval::AnnKind::kHnsw;
      // IVF: every nprobe with divrec's scan and with Faiss's own, in the same run.
      std::vector<divrec::eval::IvfScan> scans = {divrec::eval::IvfScan::kDivrec};
      if (!hnsw) scans.push_back(divrec::eval::IvfScan::kFaiss);
      for (int64_t e : hnsw ? efs : nprobes)
        for (divrec::eval::IvfScan scan : scans) {
          divrec::eval::AnnSearchParams p;
          p.threads = 1;
          p.ivf_scan = scan;
          (hnsw ? p.ef_search : p.nprobe) = static_cast<int>(e);
          std::vector<int64_t> ids(static_cast<size_t>(queries * k));
          std::vector<double> ms;
          for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches and page tables
            ms.clear();
            for (int64_t q = 0; q < queries; ++q) {
              auto t = Clock::now();
              auto hits = index.search(users.data() + q * dim, 1, k, p);
              ms.push_back(seconds_since(t) * 1e3);
              std::copy(hits.ids.begin(), hits.ids.end(), ids.begin() + q * k);
            }
          }
          nlohmann::json j = {
              {"stage", "ann"},
              {"items", n},
              {"dim", dim},
              {"kind", divrec::eval::ann_kind_name(index.kind())},
              {hnsw ? "ef_search" : "nprobe", e},
              {"k", k},
              {"queries", queries},
              {"p50_ms", percentile(ms, 0.50)},
              {"p99_ms", percentile(ms, 0.99)},
              {"recall_at_" + std::to_string(k), divrec::eval::recall_at_k(ids, exact, queries, k)},
              {"build_s", build_s},
              {"index_mb", index_mb}};
          if (hnsw) {
            j["m"] = opts.hnsw_m;
            j["ef_construction"] = opts.ef_construction;
          } else {
            j["nlist"] = index.options().ivf_nlist;
            j["ivf_scan"] = scan == divrec::eval::IvfScan::kDivrec ? "divrec" : "faiss";
          }
          std::cout << j.dump() << std::endl;
        }
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_ann: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
