// xQuAD and calibrated re-ranking on tiny hand examples and the reference script's example.
#include <gtest/gtest.h>

#include "eval/rerank/calibrated.h"
#include "eval/rerank/xquad.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

// Items 0, 1 in category 0, item 2 in category 1, item 3 in category 2; scores [1, .8, .4, 0]
// -> rel = [1, 0.8, 0.4, 0]; history = items 0, 1, 2, 3 -> p = {0: .5, 1: .25, 2: .25}.
struct Tiny {
  data::ItemTable table = testutil::make_table({0, 0, 1, 2}, {}, 3, 0);
  ItemSimilarity sim = ItemSimilarity::jaccard(table);
  std::vector<int32_t> items{0, 1, 2, 3};
  std::vector<float> scores{1.0f, 0.8f, 0.4f, 0.0f};
  std::vector<int32_t> history{0, 1, 2, 3};
  Workspace ws;
  RerankResult run(const Reranker& r, int k) {
    return r.rerank(Candidates(items, scores), UserContext(history.data(), 4), k, Constraints(),
                    ws);
  }
};

TEST(Xquad, HandComputation) {
  // lambda = 0.8: gain = 0.2 rel + 0.8 p(c_i|u) [c_i not yet listed]
  //  step 1: item 0: 0.2 + 0.4 = 0.6; item 1: 0.16 + 0.4 = 0.56; item 2: 0.08 + 0.2; item 3: 0.2
  //  step 2 (category 0 covered): item 1: 0.16; item 2: 0.28; item 3: 0.2 -> item 2
  //  step 3: item 1: 0.16; item 3: 0.2 -> item 3;  step 4: item 1
  Tiny t;
  XquadReranker x(t.sim, t.table, 0.8);
  auto r = t.run(x, 4);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(r.reasons, (std::vector<Reason>{Reason::kRelevance, Reason::kDiversity,
                                            Reason::kDiversity, Reason::kRelevance}));
  // lambda = 0.5: step 2: item 1: 0.4 > item 2: 0.2 + 0.125 -> relevance order.
  EXPECT_EQ(t.run(XquadReranker(t.sim, t.table, 0.5), 4).items, (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Xquad, EmptyHistoryUsesUniformAspects) {
  // No history: p(c|u) = 1/3 for the 3 categories among the candidates. lambda = 0.8:
  //  step 1: item 0: 0.2 + 0.2667; item 1: 0.16 + 0.2667 -> 0; step 2: item 1: 0.16,
  //  item 2: 0.08 + 0.2667 = 0.3467, item 3: 0.2667 -> 2; step 3: item 3 (0.2667 > 0.16).
  Tiny t;
  XquadReranker x(t.sim, t.table, 0.8);
  auto r = x.rerank(Candidates(t.items, t.scores), UserContext(), 3, Constraints(), t.ws);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 2, 3}));
}

TEST(Calibrated, HandComputation) {
  // lambda = 0.5, alpha = 0.01; objective 0.5 sum rel - 0.5 KL(p || q~). KL values (nats):
  //  {cat 0}: 1.958518 (q~ = (.995, .0025, .0025)); {cat 1} or {cat 2}: 3.109186
  //  step 1: item 0: 0.5 - 0.979259 = -0.479259 best (item 1: -0.579259, 2: -1.354593)
  //  step 2: +item 1 -> {0,0}: KL 1.958518, objective -0.079259;
  //          +item 2 -> {0,1}: KL 0.979259 (q~ = (.5, .4975, .0025)), objective 0.210371;
  //          +item 3 -> {0,2}: objective 0.010371 -> item 2
  //  step 3: +item 1 -> {0,1,0}: KL 0.937408, objective 0.631296;
  //          +item 3 -> {0,1,2}: KL 0.057649, objective 0.671175 -> item 3
  Tiny t;
  CalibratedReranker c(t.sim, t.table, 0.5, 0.01);
  auto r = t.run(c, 3);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(r.reasons,
            (std::vector<Reason>{Reason::kRelevance, Reason::kDiversity, Reason::kDiversity}));
  // The KL helper itself: {cat 0, cat 1, cat 2} listed once each.
  const double p[] = {0.5, 0.25, 0.25}, cnt[] = {1, 1, 1};
  EXPECT_NEAR(calibration_kl(p, cnt, 3, 3, 0.01), 0.05764931218173154, 1e-12);
  const double cnt0[] = {0, 0, 0};  // empty list: q~ = alpha p, KL = log(1 / alpha)
  EXPECT_NEAR(calibration_kl(p, cnt0, 3, 0, 0.01), std::log(100.0), 1e-12);
  // lambda = 0: pure relevance.
  EXPECT_EQ(t.run(CalibratedReranker(t.sim, t.table, 0.0, 0.01), 4).items,
            (std::vector<int32_t>{0, 1, 2, 3}));
}

// tools/reference/metrics_reference.py:
//   xquad lambda=0.7 k=6: [0, 1, 6, 7, 8, 2]
//   calibrated lambda=0.9 alpha=0.01 k=6: [0, 1, 6, 8, 4, 2]
TEST(XquadCalibrated, MatchReferenceScript) {
  auto table = testutil::reference_table();
  auto sim = ItemSimilarity::jaccard(table);
  auto items = testutil::reference_items();
  auto scores = testutil::reference_scores();
  auto history = testutil::reference_history();
  Workspace ws;
  UserContext user(history.data(), static_cast<int64_t>(history.size()));
  EXPECT_EQ(XquadReranker(sim, table, 0.7)
                .rerank(Candidates(items, scores), user, 6, Constraints(), ws)
                .items,
            (std::vector<int32_t>{0, 1, 6, 7, 8, 2}));
  EXPECT_EQ(CalibratedReranker(sim, table, 0.9, 0.01)
                .rerank(Candidates(items, scores), user, 6, Constraints(), ws)
                .items,
            (std::vector<int32_t>{0, 1, 6, 8, 4, 2}));
  // A precomputed distribution gives the same list as one computed from the history.
  CategoryDistribution dist;
  dist.compute(history.data(), static_cast<int64_t>(history.size()), table);
  EXPECT_EQ(dist.categories, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(dist.probs, (std::vector<double>{0.6, 0.2, 0.2}));
  UserContext with_dist(history.data(), static_cast<int64_t>(history.size()), &dist);
  EXPECT_EQ(XquadReranker(sim, table, 0.7)
                .rerank(Candidates(items, scores), with_dist, 6, Constraints(), ws)
                .items,
            (std::vector<int32_t>{0, 1, 6, 7, 8, 2}));
}

}  // namespace
}  // namespace divrec::eval
