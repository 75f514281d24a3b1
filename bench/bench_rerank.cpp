// Re-ranking micro-benchmarks (Google Benchmark; --benchmark_format=json for machine-readable
// output). Time is per list, in microseconds, one thread. A 20k-item catalog with 64-d vectors;
// each iteration re-ranks the next of 64 pre-generated candidate lists (N candidates, k picks).
// Compare with tools/reference/dpp_numpy_bench.py (the same DPP algorithm in numpy).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <set>
#include <vector>

#include "eval/rerank/kernels.h"
#include "eval/rerank/reranker.h"

namespace {

using namespace divrec::eval;

constexpr int kItems = 20000;
constexpr int kDim = 64;
constexpr int kLists = 64;

struct Catalog {
  divrec::data::ItemTable table;
  std::vector<float> vectors;
  std::unique_ptr<ItemSimilarity> cosine;
  std::unique_ptr<ItemSimilarity> jaccard;
  std::vector<std::vector<int32_t>> history;

  Catalog() {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> cat(0, 49), na(0, 6), attr(0, 199), item(0, kItems - 1);
    table.num_items = kItems;
    table.num_categories = 50;
    table.num_attributes = 200;
    table.category.resize(kItems);
    table.attr_offsets.assign(1, 0);
    table.popularity.assign(kItems, 1);
    for (int i = 0; i < kItems; ++i) {
      table.category[i] = cat(rng);
      std::set<int32_t> s;
      for (int j = 0, m = na(rng); j < m; ++j) s.insert(attr(rng));
      table.attr_ids.insert(table.attr_ids.end(), s.begin(), s.end());
      table.attr_offsets.push_back(static_cast<int64_t>(table.attr_ids.size()));
    }
    std::normal_distribution<float> g;
    vectors.resize(static_cast<size_t>(kItems) * kDim);
    for (auto& x : vectors) x = g(rng);
    cosine = std::make_unique<ItemSimilarity>(ItemSimilarity::cosine(vectors.data(), kItems, kDim));
    jaccard = std::make_unique<ItemSimilarity>(ItemSimilarity::jaccard(table));
    for (int u = 0; u < kLists; ++u) {
      std::vector<int32_t> h(30);
      for (auto& x : h) x = item(rng);
      history.push_back(h);
    }
  }
};

const Catalog& catalog() {
  static const Catalog c;
  return c;
}

struct Lists {
  std::vector<std::vector<int32_t>> items;
  std::vector<std::vector<float>> scores;
  explicit Lists(int n) {
    std::mt19937 rng(7 + n);
    std::uniform_int_distribution<int> item(0, kItems - 1);
    std::exponential_distribution<float> gap(50.0f);
    for (int l = 0; l < kLists; ++l) {
      std::vector<int32_t> it(n);
      std::vector<float> sc(n);
      float s = 5.0f;
      for (int i = 0; i < n; ++i) {
        it[i] = item(rng);
        sc[i] = s;
        s -= gap(rng);  // descending relevance
      }
      items.push_back(it);
      scores.push_back(sc);
    }
  }
};

Constraints worked_example() {
  Constraints c;
  c.min_categories = 4;
  c.min_distinct = 10;
  c.min_attrs_per_item = 2;
  c.max_per_category = 3;
  return c;
}

void run(benchmark::State& state, RerankMethod method, bool constrained, int window = 0,
         bool jaccard = false) {
  const int n = static_cast<int>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  const Catalog& cat = catalog();
  const Lists lists(n);
  RerankConfig config;
  config.method = method;
  config.lambda = 0.5;
  config.theta = 1.0;
  config.window = window;
  auto reranker = make_reranker(config, jaccard ? *cat.jaccard : *cat.cosine, cat.table);
  const Constraints cons = constrained ? worked_example() : Constraints();
  Workspace ws;
  RerankResult out;
  std::vector<CategoryDistribution> dists(kLists);
  for (int l = 0; l < kLists; ++l) dists[l].compute(cat.history[l].data(), 30, cat.table);
  int64_t infeasible = 0;
  size_t l = 0;
  for (auto _ : state) {
    reranker->rerank_into(Candidates(lists.items[l], lists.scores[l]),
                          UserContext(cat.history[l].data(), 30, &dists[l]), k, cons, ws, out);
    infeasible += !out.feasible;
    benchmark::DoNotOptimize(out.items.data());
    l = (l + 1) % kLists;
  }
  state.SetLabel(kernels::using_avx2() ? "avx2" : "portable");
  state.counters["infeasible_rate"] = static_cast<double>(infeasible) /
                                      static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

void BM_Dpp(benchmark::State& s) { run(s, RerankMethod::kDpp, false); }
void BM_DppWindow10(benchmark::State& s) { run(s, RerankMethod::kDpp, false, 10); }
void BM_DppJaccard(benchmark::State& s) { run(s, RerankMethod::kDpp, false, 0, true); }
void BM_Mmr(benchmark::State& s) { run(s, RerankMethod::kMmr, false); }
void BM_Xquad(benchmark::State& s) { run(s, RerankMethod::kXquad, false); }
void BM_Calibrated(benchmark::State& s) { run(s, RerankMethod::kCalibrated, false); }
void BM_None(benchmark::State& s) { run(s, RerankMethod::kNone, false); }
void BM_DppConstrained(benchmark::State& s) { run(s, RerankMethod::kDpp, true); }
void BM_MmrConstrained(benchmark::State& s) { run(s, RerankMethod::kMmr, true); }
void BM_XquadConstrained(benchmark::State& s) { run(s, RerankMethod::kXquad, true); }
void BM_CalibratedConstrained(benchmark::State& s) { run(s, RerankMethod::kCalibrated, true); }
void BM_NoneConstrained(benchmark::State& s) { run(s, RerankMethod::kNone, true); }

// The greedy alone, with the kernel given: a precomputed similarity over exactly the N
// candidates (rows are copies), as in the numpy "kernel given" timing.
void BM_DppKernelGiven(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  const Catalog& cat = catalog();
  std::vector<float> s(static_cast<size_t>(n) * n);
  cat.cosine->matrix(std::vector<int32_t>(Lists(n).items[0]).data(), n, s.data());
  for (auto& x : s) x = 0.5f + 0.5f * x;  // PSD: (1 + cos) / 2
  auto sim = ItemSimilarity::precomputed(s, n);
  divrec::data::ItemTable table;
  table.num_items = n;
  table.num_categories = 1;
  table.category.assign(n, 0);
  table.popularity.assign(n, 1);
  RerankConfig config;
  config.method = RerankMethod::kDpp;
  auto reranker = make_reranker(config, sim, table);
  std::vector<int32_t> items(n);
  for (int i = 0; i < n; ++i) items[i] = i;
  const Lists lists(n);
  Workspace ws;
  RerankResult out;
  size_t l = 0;
  for (auto _ : state) {
    reranker->rerank_into(Candidates(items, lists.scores[l]), UserContext(), k, Constraints(), ws,
                          out);
    benchmark::DoNotOptimize(out.items.data());
    l = (l + 1) % kLists;
  }
  state.SetLabel(kernels::using_avx2() ? "avx2" : "portable");
}

// Args: {N candidates, k}.
BENCHMARK(BM_DppKernelGiven)->Args({1000, 50})->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Dpp)->Args({1000, 50})->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DppWindow10)->Args({1000, 50})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DppJaccard)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Mmr)->Args({1000, 50})->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Xquad)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Calibrated)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_None)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DppConstrained)->Args({1000, 50})->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MmrConstrained)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_XquadConstrained)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CalibratedConstrained)->Args({200, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NoneConstrained)->Args({200, 10})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
