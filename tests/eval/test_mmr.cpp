// MMR against hand computations (precomputed similarity) and the reference script (cosine).
#include <gtest/gtest.h>

#include "eval/rerank/mmr.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

// S over 4 items; scores [1.0, 0.9, 0.5, 0.0] -> rel = [1, 0.9, 0.5, 0].
const std::vector<float> kSim = {1.0f, 0.9f, 0.1f, 0.3f,  //
                                 0.9f, 1.0f, 0.2f, 0.4f,  //
                                 0.1f, 0.2f, 1.0f, 0.5f,  //
                                 0.3f, 0.4f, 0.5f, 1.0f};

RerankResult run_mmr(double lambda, int k) {
  static auto sim = ItemSimilarity::precomputed(kSim, 4);
  static auto table = testutil::make_table({0, 0, 0, 0}, {}, 1, 0);
  std::vector<int32_t> items = {0, 1, 2, 3};
  std::vector<float> scores = {1.0f, 0.9f, 0.5f, 0.0f};
  Workspace ws;
  return MmrReranker(sim, table, lambda)
      .rerank(Candidates(items, scores), UserContext(), k, Constraints(), ws);
}

TEST(Mmr, HandComputationLambdaHalf) {
  // lambda = 0.5, gain = 0.5 rel - 0.5 maxsim:
  //  step 1: 0.5 rel -> item 0 (0.5)
  //  step 2: item 1: 0.45 - 0.45 = 0; item 2: 0.25 - 0.05 = 0.2; item 3: 0 - 0.15 -> item 2
  //  step 3: item 1: 0.45 - 0.5 * max(0.9, 0.2) = 0; item 3: 0 - 0.5 * max(0.3, 0.5) = -0.25
  //          -> item 1
  //  step 4: item 3
  auto r = run_mmr(0.5, 4);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 2, 1, 3}));
  EXPECT_EQ(r.reasons, (std::vector<Reason>{Reason::kRelevance, Reason::kDiversity,
                                            Reason::kRelevance, Reason::kRelevance}));
  EXPECT_EQ(r.scores, (std::vector<float>{1.0f, 0.5f, 0.9f, 0.0f}));
  EXPECT_TRUE(r.feasible);
}

TEST(Mmr, HandComputationLambdaHigh) {
  // lambda = 0.9: step 2: item 1: 0.81 - 0.09 = 0.72 > item 2: 0.45 - 0.01 -> relevance order.
  EXPECT_EQ(run_mmr(0.9, 4).items, (std::vector<int32_t>{0, 1, 2, 3}));
  // lambda = 0: pure diversity: after item 0 the least similar, item 2 (0.1), then item 3
  // (max(0.3, 0.5) = 0.5 < item 1's 0.9).
  EXPECT_EQ(run_mmr(0.0, 4).items, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(run_mmr(0.5, 2).items.size(), 2u);
}

// tools/reference/metrics_reference.py: "mmr lambda=0.6 k=6: [0, 8, 7, 4, 1, 6]".
TEST(Mmr, CosineMatchesReferenceScript) {
  auto vec = testutil::reference_vectors();
  auto sim = ItemSimilarity::cosine(vec.data(), testutil::kRefItems, testutil::kRefDim);
  auto table = testutil::reference_table();
  auto items = testutil::reference_items();
  auto scores = testutil::reference_scores();
  Workspace ws;
  auto r = MmrReranker(sim, table, 0.6)
               .rerank(Candidates(items, scores), UserContext(), 6, Constraints(), ws);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 8, 7, 4, 1, 6}));
}

}  // namespace
}  // namespace divrec::eval
