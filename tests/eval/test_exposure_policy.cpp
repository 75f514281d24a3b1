// Exposure groups, targets, shares, the multiplier policy, its dual step and FairReranker, against
// hand computations (every expected number below is worked out in the comment beside it).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "eval/eval_fixtures.h"
#include "eval/rerank/exposure_policy.h"
#include "eval/rerank/fair_reranker.h"

using namespace divrec;
using namespace divrec::eval;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("divrec_fair_" + name);
  std::ofstream(p) << text;
  return p.string();
}

// Two groups, one item each user per group, K = 1 (see HandCase below).
ExposureGroups two_groups() {
  ExposureGroups g;
  g.item_group = {0, 1, 0, 1};  // x=0 (g0), y=1 (g1), z=2 (g0), w=3 (g1)
  g.names = {"g0", "g1"};
  return g;
}

}  // namespace

TEST(ExposurePolicy, PositionWeights) {
  EXPECT_EQ(position_weight(ExposureWeights::kUniform, 7), 1.0);
  EXPECT_DOUBLE_EQ(position_weight(ExposureWeights::kLog, 0), 1.0);                   // 1/log2(2)
  EXPECT_DOUBLE_EQ(position_weight(ExposureWeights::kLog, 2), 0.5);                   // 1/log2(4)
  EXPECT_NEAR(position_weight(ExposureWeights::kLog, 1), 0.6309297535714575, 1e-15);  // 1/log2 3
  EXPECT_THROW(parse_exposure_weights("linear"), Error);
}

TEST(ExposurePolicy, PopularityBinsCategoryAndFileGroups) {
  // 10 items, popularity 10..1 except item 9 = 10 (ties: lower id first): order 0, 9, 1, 2, ...
  auto t = testutil::make_table({0, 0, 1, 1, 1, 2, 2, 2, 2, -1}, {}, 3, 0,
                                {10, 9, 8, 7, 6, 5, 4, 3, 2, 10});
  t.raw_ids = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  auto g = make_exposure_groups("popularity-bins", t);
  // head = ceil(0.2 * 10) = 2 items: 0 and 9.
  EXPECT_EQ(g.item_group, (std::vector<int32_t>{0, 1, 1, 1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(g.names, (std::vector<std::string>{"head", "tail"}));
  // 3 bins: tail ranks 2..9 (items 1..8 by popularity) split 4 + 4.
  auto g3 = make_exposure_groups("popularity-bins:3", t);
  EXPECT_EQ(g3.item_group, (std::vector<int32_t>{0, 1, 1, 1, 1, 2, 2, 2, 2, 0}));
  auto c = make_exposure_groups("category", t);
  EXPECT_EQ(c.num_groups(), 3);
  EXPECT_EQ(c.item_group[9], -1);
  // catalog target over grouped items: 2, 3, 4 of 9.
  auto tc = exposure_target("catalog", c);
  EXPECT_DOUBLE_EQ(tc[0], 2.0 / 9);
  EXPECT_DOUBLE_EQ(tc[2], 4.0 / 9);
  EXPECT_DOUBLE_EQ(exposure_target("uniform", c)[1], 1.0 / 3);

  const auto file = write_temp("groups.csv", "# item,group\na,x\nb\ty\nc,x\n");
  auto f = make_exposure_groups(file, t);
  EXPECT_EQ(f.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f.item_group[0], 0);
  EXPECT_EQ(f.item_group[1], 1);
  EXPECT_EQ(f.item_group[2], 0);
  EXPECT_EQ(f.item_group[3], -1);
  const auto target = write_temp("target.csv", "x,3\ny,1\n");
  auto tf = exposure_target(target, f);
  EXPECT_DOUBLE_EQ(tf[0], 0.75);
  EXPECT_DOUBLE_EQ(tf[1], 0.25);

  // Errors name the file and line.
  const auto bad = write_temp("bad.csv", "a,x\nzz,y\n");
  try {
    make_exposure_groups(bad, t);
    FAIL() << "unknown item accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_exposure_groups("popularity-bins:1", t), Error);
  EXPECT_THROW(make_exposure_groups("no-such-file", t), Error);
  EXPECT_THROW(exposure_target(write_temp("t2.csv", "x,1\n"), f), Error);  // y missing
  for (const auto& p : {file, target, bad}) std::filesystem::remove(p);
}

TEST(ExposurePolicy, GroupSharesUniformAndLog) {
  ExposureGroups g = two_groups();
  std::vector<int64_t> counts(2 * 2, 0);
  const int32_t l1[] = {0, 1}, l2[] = {2, 0};
  count_group_exposure(g, l1, 2, 2, counts.data());
  count_group_exposure(g, l2, 2, 2, counts.data());
  // g0: positions 0 (twice) and 1 (once); g1: position 1 once.
  EXPECT_EQ(counts, (std::vector<int64_t>{2, 1, 0, 1}));
  auto u = group_shares(counts, 2, 2, ExposureWeights::kUniform);
  EXPECT_DOUBLE_EQ(u[0], 0.75);
  // log: g0 = 2 + w1, g1 = w1 with w1 = 1/log2(3); share g1 = w1 / (2 + 2 w1).
  const double w1 = 1.0 / std::log2(3.0);
  auto l = group_shares(counts, 2, 2, ExposureWeights::kLog);
  EXPECT_NEAR(l[1], w1 / (2 + 2 * w1), 1e-15);
  EXPECT_DOUBLE_EQ(fairness_violation({0.75, 0.25}, {0.5, 0.5}, 0.1, 0), 0.15);  // TVD .25 - .1
  EXPECT_DOUBLE_EQ(fairness_violation({0.75, 0.25}, {}, 0.1, 0.4), 0.15);        // floor .4 - .25
  EXPECT_EQ(fairness_violation({0.5, 0.5}, {0.5, 0.5}, 0, 0.3), 0);
}

// Hand case. K = 1, target uniform (0.5, 0.5). User 1: x (g0) 5.0, y (g1) 4.0; user 2: z (g0)
// 5.0, w (g1) 3.0. Plain lists [x], [z]: shares (1, 0), TVD 0.5. The cheapest fair lists swap
// user 1 only (relevance lost 1.0 < 2.0): [y], [z], shares (0.5, 0.5), which centred multipliers
// (-d/2, d/2) give exactly for 1 < d < 2. The first dual step from mu = 0 with eta = 1.2:
// d = target - share = (-0.5, 0.5), mu = (-0.6, 0.6) (already centred): d = 1.2, the fair lists.
TEST(ExposurePolicy, HandCaseOptimalMultiplierAndLists) {
  ExposurePolicy policy;
  policy.groups = two_groups();
  policy.mu = {0.0, 0.0};
  DualStepState state;
  dual_step({1.0, 0.0}, {0.5, 0.5}, 0.0, 1.2, state, policy.mu);
  EXPECT_DOUBLE_EQ(policy.mu[0], -0.6);
  EXPECT_DOUBLE_EQ(policy.mu[1], 0.6);

  std::vector<int32_t> order, items;
  std::vector<float> adjusted;
  const int32_t u1[] = {0, 1};
  const float s1[] = {5.0f, 4.0f};
  policy.apply(u1, s1, 2, order, items, adjusted);
  EXPECT_EQ(items, (std::vector<int32_t>{1, 0}));  // y first: 4.6 > 4.4
  EXPECT_EQ(order, (std::vector<int32_t>{1, 0}));
  EXPECT_FLOAT_EQ(adjusted[0], 4.6f);
  const int32_t u2[] = {2, 3};
  const float s2[] = {5.0f, 3.0f};
  policy.apply(u2, s2, 2, order, items, adjusted);
  EXPECT_EQ(items, (std::vector<int32_t>{2, 3}));  // z stays: 4.4 > 3.6

  // Shares of the new lists meet the target: the next step keeps mu (d = 0).
  std::vector<int64_t> counts(2, 0);
  const int32_t a[] = {1}, b[] = {2};
  count_group_exposure(policy.groups, a, 1, 1, counts.data());
  count_group_exposure(policy.groups, b, 1, 1, counts.data());
  auto share = group_shares(counts, 2, 1, ExposureWeights::kUniform);
  EXPECT_EQ(fairness_violation(share, {0.5, 0.5}, 0.0, 0.0), 0.0);
  dual_step(share, {0.5, 0.5}, 0.0, 1.2, state, policy.mu);
  EXPECT_DOUBLE_EQ(policy.mu[1], 0.6);
}

TEST(ExposurePolicy, DualStepAdaptsAndProjects) {
  std::vector<double> mu{0, 0};
  DualStepState st;
  // Same sign twice: eta 1 then 1.2. d = (-0.2, 0.2).
  dual_step({0.7, 0.3}, {0.5, 0.5}, 0, 1.0, st, mu);
  EXPECT_DOUBLE_EQ(mu[1], 0.2);
  dual_step({0.7, 0.3}, {0.5, 0.5}, 0, 1.0, st, mu);
  EXPECT_DOUBLE_EQ(mu[1], 0.2 + 1.2 * 0.2);
  // Sign flip: eta 1.2 -> 0.6, d = (0.1, -0.1).
  dual_step({0.4, 0.6}, {0.5, 0.5}, 0, 1.0, st, mu);
  EXPECT_NEAR(mu[1], 0.44 - 0.06, 1e-15);
  EXPECT_NEAR(mu[0] + mu[1], 0.0, 1e-15);  // centred
  // Floor only: multipliers stay >= 0. d = max(0, 0.3 - s): (0, 0.1).
  std::vector<double> f{0, 0};
  DualStepState fs;
  dual_step({0.8, 0.2}, {}, 0.3, 2.0, fs, f);
  EXPECT_DOUBLE_EQ(f[0], 0.0);
  EXPECT_NEAR(f[1], 0.2, 1e-15);
}

TEST(ExposurePolicy, FairRerankerMapsPositionsBackAndZeroIsPlain) {
  // 4 items in 2 categories; relevance order 0, 1, 2, 3.
  auto table = testutil::make_table({0, 0, 1, 1}, {}, 2, 0);
  auto sim = ItemSimilarity::jaccard(table);
  ExposurePolicy policy;
  policy.groups = make_exposure_groups("category", table);
  policy.mu = {0.0, 0.0};
  RerankConfig cfg;
  FairReranker fair(make_reranker(cfg, sim, table), policy);
  auto plain = make_reranker(cfg, sim, table);
  const std::vector<int32_t> items{0, 1, 2, 3};
  const std::vector<float> scores{4.0f, 3.0f, 2.0f, 1.0f};
  Workspace ws;
  const Candidates cands(items, scores);
  UserContext user(nullptr, 0, nullptr);
  auto a = fair.rerank(cands, user, 2, {}, ws);
  auto b = plain->rerank(cands, user, 2, {}, ws);
  EXPECT_EQ(a.items, b.items);  // mu = 0: the plain list
  policy.mu = {-1.5, 1.5};      // scores 2.5, 1.5, 3.5, 2.5 -> 2, then 0 (tie 0/3: position)
  auto c = fair.rerank(cands, user, 2, {}, ws);
  EXPECT_EQ(c.items, (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(c.positions, (std::vector<int32_t>{2, 0}));  // the caller's positions
  EXPECT_FLOAT_EQ(c.scores[0], 2.0f);                    // the model's relevance
}
