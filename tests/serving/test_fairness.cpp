// Serving's fair-exposure state: the /fairness group round-trips through the artifact and is
// covered by the checksum; the Recommender applies the exported multipliers (its list equals a
// hand re-ranking of its own candidates with mu added); running counters and --fairness-online
// dual steps, with hand-computed numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/check.h"
#include "serving/artifact.h"
#include "serving/fairness_state.h"
#include "serving/fixtures.h"
#include "serving/recommender.h"

using namespace divrec;

namespace {

serving::FairnessExport two_group_export(int64_t items) {
  serving::FairnessExport f;
  f.policy.groups.spec = "test";
  f.policy.groups.names = {"even", "odd"};
  for (int64_t i = 0; i < items; ++i) f.policy.groups.item_group.push_back(i % 2);
  f.policy.mu = {-0.75, 0.75};
  f.target = {0.5, 0.5};
  f.k = 2;
  f.tolerance = 0.0;
  f.step = 0.25;
  f.score_spread = 1.0;
  return f;
}

}  // namespace

TEST(ServingFairness, ArtifactRoundTripChecksumAndExactApplication) {
  auto fx = divrec::testing::make_serving_fixture("fairness", "next-item", 5);
  auto a = serving::read_artifact(fx.artifact);
  const uint32_t plain = a.checksum;
  a.fairness = two_group_export(a.items.num_items);
  const std::string path = fx.dir + "/fair.h5";
  serving::write_artifact(path, a);
  EXPECT_NE(a.checksum, plain);  // the policy changes answers, so the checksum covers it
  auto b = serving::read_artifact(path);
  ASSERT_TRUE(b.fairness.present());
  EXPECT_EQ(b.fairness.policy.mu, a.fairness.policy.mu);
  EXPECT_EQ(b.fairness.policy.groups.item_group, a.fairness.policy.groups.item_group);
  EXPECT_EQ(b.fairness.k, 2);
  auto changed = b;
  changed.fairness.policy.mu[1] = 0.5;
  EXPECT_NE(serving::artifact_checksum(changed), b.checksum);

  // Relevance order (--rerank none): the list is the candidates sorted by score + mu(group),
  // ties by relevance position -- computed here by hand from the recommender's own candidates.
  auto rec = serving::Recommender::load(path);
  serving::RecommendSettings s = rec->defaults();
  s.k = 5;
  s.candidates = 30;
  s.rerank.method = eval::RerankMethod::kNone;
  const std::vector<int32_t> hist{3, 8, 1, 14};
  std::vector<int32_t> items;
  std::vector<float> scores;
  rec->top_candidates(hist.data(), static_cast<int64_t>(hist.size()), s.candidates, items, scores);
  std::vector<float> adj(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    adj[i] = static_cast<float>(scores[i] + (items[i] % 2 ? 0.75 : -0.75));
  }
  std::vector<int> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return adj[x] > adj[y]; });
  auto got = rec->recommend_dense(hist, s);
  ASSERT_EQ(got.items.size(), 5u);
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_EQ(got.items[j].index, items[order[j]]) << j;
    EXPECT_EQ(got.items[j].score, scores[order[j]]) << j;  // the model's score, not the adjusted
  }
  const auto d = rec->describe()["fairness"];
  EXPECT_EQ(d["lists"], 1);
  EXPECT_EQ(d["multipliers"]["odd"], 0.75);
  EXPECT_FALSE(d["online"]["enabled"].get<bool>());
  EXPECT_THROW(serving::Recommender::load(fx.artifact, model::ScorePrecision::kFp32, {},
                                          serving::FairnessOnline{true, 10}),
               Error);  // --fairness-online needs an exported policy
}

// Two lists per step, K = 2. Lists [0, 2] and [4, 1]: positions of even items 3, odd 1 ->
// shares (0.75, 0.25), d = (-0.25, 0.25); the first step size is step * spread = 0.25:
// mu = (-0.75, 0.75) + 0.25 * d = (-0.8125, 0.8125) (already centred).
TEST(ServingFairness, OnlineDualStepOnTheServedWindow) {
  auto f = two_group_export(6);
  serving::FairnessState st(f, serving::FairnessOnline{true, 2});
  const int32_t l1[] = {0, 2}, l2[] = {4, 1};
  st.record(l1, 2);
  EXPECT_EQ(st.policy()->mu[1], 0.75);  // no step before `every` lists
  st.record(l2, 2);
  EXPECT_DOUBLE_EQ(st.policy()->mu[0], -0.8125);
  EXPECT_DOUBLE_EQ(st.policy()->mu[1], 0.8125);
  auto d = st.describe();
  EXPECT_EQ(d["online"]["steps"], 1);
  EXPECT_DOUBLE_EQ(d["share"]["even"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(d["exposure_tvd"].get<double>(), 0.25);
  EXPECT_EQ(d["exported_multipliers"]["odd"], 0.75);
  // A window at the target (shares 0.5, 0.5) keeps the multipliers.
  const int32_t l3[] = {1, 2}, l4[] = {3, 0};
  st.record(l3, 2);
  st.record(l4, 2);
  EXPECT_DOUBLE_EQ(st.policy()->mu[1], 0.8125);
  EXPECT_EQ(st.describe()["online"]["steps"], 1);
  // Offline (the default): counters only, multipliers fixed.
  serving::FairnessState fixed(f, serving::FairnessOnline{});
  fixed.record(l1, 2);
  fixed.record(l1, 2);
  EXPECT_EQ(fixed.policy()->mu[1], 0.75);
  EXPECT_EQ(fixed.describe()["lists"], 2);
}
