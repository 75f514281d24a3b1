// HR / Recall / NDCG / MRR against hand computations (single and multiple targets, repeats).
#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "eval/metrics/ranking.h"

namespace divrec::eval {
namespace {

const std::vector<int32_t> kList = {5, 3, 9, 1, 7};

TEST(Ranking, SingleTarget) {
  // Target 9 at rank 3: HR 1, recall 1, NDCG = 1 / log2(4) = 0.5, MRR = 1/3.
  const int32_t t = 9;
  auto m = ranking_metrics(kList.data(), 5, &t, 1, 5);
  EXPECT_DOUBLE_EQ(m.hr, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.ndcg, 0.5);
  EXPECT_DOUBLE_EQ(m.mrr, 1.0 / 3.0);
  // Cut at 2: missed.
  m = ranking_metrics(kList.data(), 5, &t, 1, 2);
  EXPECT_EQ(m.hr, 0.0);
  EXPECT_EQ(m.ndcg, 0.0);
  EXPECT_EQ(m.mrr, 0.0);
  // K beyond the list: the whole list counts.
  m = ranking_metrics(kList.data(), 5, &t, 1, 50);
  EXPECT_DOUBLE_EQ(m.ndcg, 0.5);
}

TEST(Ranking, MultipleTargets) {
  // T = {3, 7, 8}: hits at ranks 2 and 5.
  // K=5: DCG = 1/log2(3) + 1/log2(6) = 0.6309298 + 0.3868528 = 1.0177827;
  //      IDCG over min(3, 5) = 3 positions: 1 + 0.6309298 + 0.5 = 2.1309298;
  //      NDCG = 0.4776237, recall 2/3, MRR 1/2.
  const std::vector<int32_t> t = {3, 7, 8};
  auto m = ranking_metrics(kList.data(), 5, t.data(), 3, 5);
  EXPECT_DOUBLE_EQ(m.hr, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3.0);
  EXPECT_NEAR(m.ndcg, (1 / std::log2(3.0) + 1 / std::log2(6.0)) / (1 + 1 / std::log2(3.0) + 0.5),
              1e-15);
  EXPECT_NEAR(m.ndcg, 0.4776237, 1e-7);
  EXPECT_DOUBLE_EQ(m.mrr, 0.5);
  // K=2: DCG = 0.6309298, IDCG over min(3, 2) = 2: 1.6309298 -> 0.3868528; recall 1/3.
  m = ranking_metrics(kList.data(), 5, t.data(), 3, 2);
  EXPECT_NEAR(m.ndcg, 0.3868528, 1e-7);
  EXPECT_DOUBLE_EQ(m.recall, 1.0 / 3.0);
}

TEST(Ranking, RepeatsCountOnce) {
  // List 3, 3, 7 and targets {3, 3}: one distinct target, hit once at rank 1.
  const std::vector<int32_t> list = {3, 3, 7};
  const std::vector<int32_t> t = {3, 3};
  auto m = ranking_metrics(list.data(), 3, t.data(), 2, 3);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(m.mrr, 1.0);
  EXPECT_THROW(ranking_metrics(list.data(), 3, t.data(), 0, 3), divrec::Error);
}

}  // namespace
}  // namespace divrec::eval
