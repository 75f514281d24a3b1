// Exact aggregation with the threaded fake communicator: the same users split over 1, 2 and 3
// ranks (and over threads via merge) give bit-identical global metrics; hand-checked means and
// global metrics; ranks that saw different metric names; mismatched layouts fail on every rank.
#include <gtest/gtest.h>

#include <cmath>

#include "agg_workload.h"
#include "common/fake_comm.h"
#include "core/check.h"
#include "eval/aggregate.h"

namespace divrec::eval {
namespace {

using divrec::testing::FakeCommunicator;
using divrec::testing::run_ranks;

std::map<std::string, double> run_split(const testutil::Workload& w, int world, bool round_robin) {
  std::vector<std::map<std::string, double>> results(world);
  run_ranks(world, [&](FakeCommunicator& c) {
    auto acc = w.suite->make_accumulator();
    Workspace ws;
    MetricScratch scratch;
    const int per = (testutil::kWorkloadUsers + world - 1) / world;
    for (int u = 0; u < testutil::kWorkloadUsers; ++u) {
      const int owner = round_robin ? u % world : u / per;
      if (owner == c.rank()) w.add_user(u, acc, ws, scratch);
    }
    results[c.rank()] = acc.finalize(c);
    EXPECT_EQ(c.collectives(), 3);  // allgather of sizes, allgatherv of names, one all-reduce
  });
  for (int r = 1; r < world; ++r) EXPECT_EQ(results[r], results[0]) << "rank " << r;
  return results[0];
}

TEST(Aggregate, IndependentOfRankCountAndSplit) {
  testutil::Workload w;
  auto one = run_split(w, 1, true);
  EXPECT_EQ(one.at("users"), testutil::kWorkloadUsers);
  for (const char* key :
       {"ndcg@10", "hr@20", "alpha_ndcg@5", "ild@10", "calibration_kl@20", "gini@10",
        "exposure_entropy@20", "catalog_coverage@5", "long_tail_share@10",
        "category_exposure_tvd@20", "novelty@10", "serendipity@20", "constraint_satisfied",
        "violated.min_categories", "infeasible_users", "calibration_kl@20.count"}) {
    EXPECT_TRUE(one.count(key)) << key;
  }
  EXPECT_GT(one.at("hr@20"), 0.0);
  EXPECT_GT(one.at("gini@10"), 0.0);
  for (int world : {2, 3}) {
    for (bool rr : {true, false}) {
      auto got = run_split(w, world, rr);
      ASSERT_EQ(got.size(), one.size());
      for (const auto& [k, v] : one) {
        EXPECT_EQ(got.at(k), v) << k << " world " << world;  // bit-identical (stronger than 1e-9)
      }
    }
  }
}

TEST(Aggregate, ThreadAccumulatorsMergeExactly) {
  testutil::Workload w;
  auto whole = w.suite->make_accumulator();
  auto a = w.suite->make_accumulator();
  auto b = w.suite->make_accumulator();
  Workspace ws;
  MetricScratch s;
  for (int u = 0; u < testutil::kWorkloadUsers; ++u) {
    w.add_user(u, whole, ws, s);
    w.add_user(u, u % 3 ? a : b, ws, s);
  }
  b.merge(a);
  core::LocalCommunicator local;
  EXPECT_EQ(b.finalize(local), whole.finalize(local));
}

TEST(Aggregate, HandComputedMeansAndGlobals) {
  // 4 items; exposure at K=2 from lists [0, 1] and [0, 2]: counts 2, 1, 1, 0 ->
  // coverage 3/4, Gini: sorted 0,1,1,2: (-3*0 - 1*1 + 1*1 + 3*2) / (4 * 4) = 0.375,
  // entropy = 1.5 bits; head (0.25 -> 1 item: item 3, popularity 9) -> long tail share 1.
  auto t = testutil::make_table({0, 0, 1, 1}, {}, 2, 0, {1, 2, 3, 9});
  auto ctx = ExposureContext::make(t, 0.25);
  run_ranks(2, [&](FakeCommunicator& c) {
    MetricAccumulator acc(ctx, {2});
    const std::vector<int32_t> l0 = {0, 1}, l1 = {0, 2};
    acc.expose(c.rank() == 0 ? l0.data() : l1.data(), 2);
    acc.add("ndcg@2", c.rank() == 0 ? 0.25 : 1.0 / 3.0);
    acc.count("users");
    if (c.rank() == 1) acc.add("only_rank1", -2.5);  // a name rank 0 never saw
    auto m = acc.finalize(c);
    EXPECT_NEAR(m.at("ndcg@2"), (0.25 + 1.0 / 3.0) / 2, 1e-15);
    EXPECT_EQ(m.at("users"), 2);
    EXPECT_EQ(m.at("only_rank1"), -2.5);
    EXPECT_EQ(m.at("only_rank1.count"), 1);
    EXPECT_EQ(m.count("ndcg@2.count"), 0u);
    EXPECT_EQ(m.at("catalog_coverage@2"), 0.75);
    EXPECT_EQ(m.at("gini@2"), 0.375);
    EXPECT_NEAR(m.at("exposure_entropy@2"), 1.5, 1e-15);
    EXPECT_EQ(m.at("long_tail_share@2"), 1.0);
    // Category exposure: category 0 gets 3 of 4, catalog share 0.5 -> TV 0.25.
    EXPECT_EQ(acc.category_exposure_share(2), (std::vector<double>{0.75, 0.25}));
    EXPECT_EQ(m.at("category_exposure_tvd@2"), 0.25);
    EXPECT_EQ(acc.global_exposure(2), (std::vector<int64_t>{2, 1, 1, 0}));
  });
}

TEST(Aggregate, RejectsBadValuesAndMismatchedLayouts) {
  auto t = testutil::make_table({0, 1}, {}, 2, 0);
  auto ctx = ExposureContext::make(t);
  MetricAccumulator acc(ctx, {5});
  EXPECT_THROW(acc.add("x", NAN), divrec::Error);
  EXPECT_THROW(acc.add("x", 1e10), divrec::Error);
  acc.count("users");
  EXPECT_THROW(acc.add("users", 1.0), divrec::Error);
  EXPECT_THROW(MetricAccumulator(ctx, {5, 5}), divrec::Error);
  int failures = 0;
  std::mutex m;
  run_ranks(2, [&](FakeCommunicator& c) {
    MetricAccumulator a(ctx, c.rank() == 0 ? std::vector<int>{5} : std::vector<int>{10});
    try {
      a.finalize(c);
    } catch (const divrec::Error& e) {
      std::lock_guard<std::mutex> lock(m);
      ++failures;
      EXPECT_NE(std::string(e.what()).find("ranks disagree"), std::string::npos);
    }
  });
  EXPECT_EQ(failures, 2);  // every rank fails, none hangs in a mismatched all-reduce
}

TEST(Aggregate, SuiteRejectsBadLists) {
  testutil::Workload w;
  auto acc = w.suite->make_accumulator();
  MetricScratch s;
  CategoryDistribution none;
  const std::vector<int32_t> bad = {3, 500}, target = {3};
  EXPECT_THROW(w.suite->add_user(acc, bad.data(), 2, target.data(), 1, none, s), divrec::Error);
  EXPECT_THROW(w.suite->add_user(acc, bad.data(), 1, target.data(), 0, none, s), divrec::Error);
}

TEST(Aggregate, FixedPointKeepsSmallValuesExact) {
  // 1e5 values with tiny parts: the fixed-point mean is independent of the order of adding and
  // exact to double precision (compared with a compensated sum).
  auto t = testutil::make_table({0}, {}, 1, 0);
  auto ctx = ExposureContext::make(t);
  MetricAccumulator fwd(ctx, {1}), rev(ctx, {1});
  std::vector<double> vals;
  for (int i = 0; i < 100000; ++i) vals.push_back(0.1 * (i % 7) + 1e-9 * (i % 3));
  for (double v : vals) fwd.add("m", v);
  for (auto it = vals.rbegin(); it != vals.rend(); ++it) rev.add("m", *it);
  core::LocalCommunicator local;
  const double a = fwd.finalize(local).at("m"), b = rev.finalize(local).at("m");
  EXPECT_EQ(a, b);
  double sum = 0, comp = 0;  // Neumaier-compensated reference sum
  for (double v : vals) {
    const double t = sum + v;
    comp += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  EXPECT_NEAR(a, (sum + comp) / static_cast<double>(vals.size()), 1e-15);
}

}  // namespace
}  // namespace divrec::eval
