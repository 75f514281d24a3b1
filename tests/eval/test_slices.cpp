// Popularity slices of the target metrics (MetricOptions::slices): each user counts in the slice
// of its first target's train interactions -- cold (0), tail (1..tail_max), head (more) -- next
// to the overall metrics. Hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "core/comm/communicator.h"
#include "eval/metrics/suite.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

TEST(Slices, EachUserCountsInItsTargetsPopularitySlice) {
  // Items 0..3 with 0, 3, 6 and 100 train interactions: cold, tail, head, head (tail_max 5).
  const auto table = testutil::make_table({0, 1, 2, 3}, {}, 4, 0, {0, 3, 6, 100});
  MetricOptions mo;
  mo.ks = {1, 2};
  MetricSuite suite(table, nullptr, mo);
  MetricAccumulator acc = suite.make_accumulator();
  MetricScratch scratch;
  CategoryDistribution none;
  const auto add = [&](std::vector<int32_t> list, int32_t target) {
    suite.add_user(acc, list.data(), static_cast<int>(list.size()), &target, 1, none, scratch);
  };
  add({0, 1, 2}, 0);  // cold: hit at 1
  add({2, 1, 0}, 1);  // tail: hit at 2
  add({0, 1, 2}, 3);  // head: miss
  add({2, 0, 1}, 2);  // head: hit at 1
  core::LocalCommunicator local;
  const auto m = acc.finalize(local);
  EXPECT_DOUBLE_EQ(m.at("users"), 4);
  EXPECT_DOUBLE_EQ(m.at("cold.users"), 1);
  EXPECT_DOUBLE_EQ(m.at("tail.users"), 1);
  EXPECT_DOUBLE_EQ(m.at("head.users"), 2);
  EXPECT_DOUBLE_EQ(m.at("hr@1"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("cold.hr@1"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("tail.hr@1"), 0.0);
  EXPECT_DOUBLE_EQ(m.at("tail.hr@2"), 1.0);
  EXPECT_NEAR(m.at("tail.ndcg@2"), 1.0 / std::log2(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.at("head.hr@1"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("head.mrr@2"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("cold.recall@2"), 1.0);
  EXPECT_EQ(m.count("novelty@1"), 1u);  // beyond-accuracy metrics are not sliced
  EXPECT_EQ(m.count("cold.novelty@1"), 0u);
}

TEST(Slices, OffLeavesOnlyTheOverallMetrics) {
  const auto table = testutil::make_table({0, 1}, {}, 2, 0, {0, 9});
  MetricOptions mo;
  mo.ks = {1};
  mo.slices = false;
  MetricSuite suite(table, nullptr, mo);
  MetricAccumulator acc = suite.make_accumulator();
  MetricScratch scratch;
  CategoryDistribution none;
  const int32_t list[] = {0, 1}, target = 0;
  suite.add_user(acc, list, 2, &target, 1, none, scratch);
  core::LocalCommunicator local;
  const auto m = acc.finalize(local);
  EXPECT_DOUBLE_EQ(m.at("hr@1"), 1.0);
  for (const auto& [k, v] : m) EXPECT_EQ(k.find("cold."), std::string::npos) << k;
}

}  // namespace
}  // namespace divrec::eval
