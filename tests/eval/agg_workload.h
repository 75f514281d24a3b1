// A fixed synthetic evaluation workload for the aggregation tests (fake ranks and MPI): a
// 500-item catalog and 101 users whose candidates, targets and histories are functions of the
// user index, re-ranked with MMR under constraints and scored with the full MetricSuite.
#pragma once

#include <memory>
#include <random>
#include <set>
#include <vector>

#include "eval/metrics/suite.h"
#include "eval/rerank/reranker.h"
#include "eval_fixtures.h"

namespace divrec::eval::testutil {

constexpr int kWorkloadUsers = 101;

struct Workload {
  data::ItemTable table;
  std::vector<float> vectors;
  std::unique_ptr<ItemSimilarity> sim;
  std::unique_ptr<Reranker> reranker;
  std::unique_ptr<MetricSuite> suite;
  Constraints constraints;

  Workload() {
    const int items = 500, cats = 12, attrs = 40, dim = 16;
    std::mt19937 rng(2024);
    std::uniform_int_distribution<int> cat(0, cats - 1), na(0, 4), attr(0, attrs - 1);
    std::vector<int32_t> category(items);
    std::vector<std::vector<int32_t>> attr_lists(items);
    std::vector<int64_t> pop(items);
    for (int i = 0; i < items; ++i) {
      category[i] = i % 50 == 7 ? -1 : cat(rng);
      std::set<int32_t> s;
      for (int j = 0, m = na(rng); j < m; ++j) s.insert(attr(rng));
      attr_lists[i].assign(s.begin(), s.end());
      pop[i] = 1000 / (1 + i % 97);
    }
    table = make_table(category, attr_lists, cats, attrs, pop);
    std::normal_distribution<float> g;
    vectors.resize(items * dim);
    for (auto& x : vectors) x = g(rng);
    sim = std::make_unique<ItemSimilarity>(ItemSimilarity::cosine(vectors.data(), items, dim));
    RerankConfig rc;
    rc.method = RerankMethod::kMmr;
    rc.lambda = 0.7;
    reranker = make_reranker(rc, *sim, table);
    constraints.min_categories = 4;
    constraints.min_distinct = 15;
    constraints.min_attrs_per_item = 1;
    MetricOptions mo;
    mo.ks = {5, 10, 20};
    suite = std::make_unique<MetricSuite>(table, sim.get(), mo);
  }

  // Adds user u (re-ranking included) to acc.
  void add_user(int u, MetricAccumulator& acc, Workspace& ws, MetricScratch& scratch) const {
    std::mt19937 rng(77 + 13 * u);
    std::uniform_int_distribution<int> item(0, 499), hl(0, 20), nt(1, 3);
    std::vector<int32_t> history(hl(rng));
    for (auto& h : history) h = item(rng);
    std::vector<int32_t> cand(60);
    std::vector<float> scores(60);
    for (int i = 0; i < 60; ++i) {
      cand[i] = item(rng);
      scores[i] = 2.0f - 0.03f * i;
    }
    std::vector<int32_t> targets(nt(rng));
    for (size_t j = 0; j < targets.size(); ++j) targets[j] = j == 0 ? cand[u % 30] : item(rng);
    CategoryDistribution dist;
    dist.compute(history.data(), static_cast<int64_t>(history.size()), table);
    auto r =
        reranker->rerank(Candidates(cand, scores),
                         UserContext(history.data(), static_cast<int64_t>(history.size()), &dist),
                         20, constraints, ws);
    suite->add_user(acc, r.items.data(), static_cast<int>(r.items.size()), targets.data(),
                    static_cast<int>(targets.size()), dist, scratch);
    suite->add_rerank_outcome(acc, r, constraints);
  }
};

}  // namespace divrec::eval::testutil
