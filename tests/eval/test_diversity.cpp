// Diversity, coverage, alpha-NDCG, calibration, novelty and serendipity of single lists against
// hand computations and tools/reference/metrics_reference.py.
#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "eval/metrics/diversity.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

TEST(Diversity, IntraListDiversity) {
  // Pair similarities 0-1: 0.2, 0-2: 0.5, 1-2: 0.8 -> ILD@3 = (0.8 + 0.5 + 0.2) / 3 = 0.5.
  auto sim = ItemSimilarity::precomputed({1, .2f, .5f, .2f, 1, .8f, .5f, .8f, 1}, 3);
  const std::vector<int32_t> list = {0, 1, 2};
  std::vector<float> row;
  EXPECT_NEAR(intra_list_diversity(list.data(), 3, 3, sim, row), 0.5, 1e-7);
  EXPECT_NEAR(intra_list_diversity(list.data(), 3, 2, sim, row), 0.8, 1e-7);
  EXPECT_EQ(intra_list_diversity(list.data(), 3, 1, sim, row), 0.0);
}

TEST(Diversity, CategoryMetrics) {
  // Categories of items 0..3: 0, 0, 1, none; attributes {1,2}, {2}, {3}, {}.
  auto t = testutil::make_table({0, 0, 1, -1}, {{1, 2}, {2}, {3}, {}}, 3, 4);
  const std::vector<int32_t> list = {0, 1, 2, 3};
  std::vector<int32_t> s;
  // Pairs: (0,1) same; (0,2) (0,3) (1,2) (1,3) (2,3) differ -> 5/6.
  EXPECT_NEAR(category_ild(list.data(), 4, 4, t), 5.0 / 6.0, 1e-15);
  EXPECT_EQ(distinct_categories(list.data(), 4, 4, t, s), 2);
  EXPECT_NEAR(category_coverage(list.data(), 4, 4, t, s), 2.0 / 3.0, 1e-15);  // / min(4, 3)
  EXPECT_NEAR(category_coverage(list.data(), 4, 2, t, s), 1.0 / 2.0, 1e-15);  // {0} / min(2, 3)
  EXPECT_EQ(distinct_attributes(list.data(), 4, 4, t, s), 3);
  EXPECT_EQ(distinct_attributes(list.data(), 4, 2, t, s), 2);
}

// tools/reference/metrics_reference.py (greedy ideal over the catalog):
//   alpha_ndcg@5 list [4,2,7,0,5] targets [1,5]: 0.945906934648436
//   alpha_ndcg@3 list [4,2,7,0,5] targets [1,5]: 1.000000000000000
// By hand @5: gains 1, 1, 0.5, 0, 0.5 -> DCG = 1 + 1/log2(3) + 0.5/2 + 0.5/log2(6) = 2.074357;
// ideal (category 1 has 3 items, category 2 has 2): 1, 1, .5, .5, .25 -> 2.192981.
TEST(Diversity, AlphaNdcg) {
  std::vector<int32_t> cat(10);
  for (int i = 0; i < 10; ++i) cat[i] = i < 8 ? i % 3 : 3;
  auto t = testutil::make_table(cat, {}, 4, 0);
  std::vector<int64_t> size = {3, 3, 2, 2};
  const std::vector<int32_t> list = {4, 2, 7, 0, 5};
  const std::vector<int32_t> targets = {1, 5};
  std::vector<int32_t> s;
  EXPECT_NEAR(alpha_ndcg(list.data(), 5, 5, targets.data(), 2, t, size, 0.5, s), 0.945906934648436,
              1e-12);
  EXPECT_NEAR(alpha_ndcg(list.data(), 5, 3, targets.data(), 2, t, size, 0.5, s), 1.0, 1e-12);
  // No listed item in a target category (items 0, 3, 6 are category 0): 0.
  const std::vector<int32_t> none = {0, 3, 6};
  EXPECT_EQ(alpha_ndcg(none.data(), 3, 3, targets.data(), 2, t, size, 0.5, s), 0.0);
}

// tools/reference/metrics_reference.py: calibration kl of [3,7,4,8] alpha=0.01: 1.950262206874
TEST(Diversity, CalibrationKl) {
  auto t = testutil::reference_table();
  auto h = testutil::reference_history();
  CategoryDistribution p;
  p.compute(h.data(), static_cast<int64_t>(h.size()), t);
  const std::vector<int32_t> list = {3, 7, 4, 8};
  std::vector<double> s;
  EXPECT_NEAR(list_calibration_kl(list.data(), 4, 4, t, p, 0.01, s), 1.950262206874, 1e-11);
  CategoryDistribution empty;
  EXPECT_THROW(list_calibration_kl(list.data(), 4, 4, t, empty, 0.01, s), divrec::Error);
}

TEST(Diversity, NoveltyAndSerendipity) {
  // Popularity 9, 0, 1 (total 10, +1 smoothing over 3 items -> 13):
  // info = log2(13/10) = 0.3785116, log2(13) = 3.7004397, log2(13/2) = 2.7004397.
  auto t = testutil::make_table({0, 1, 1}, {}, 2, 0, {9, 0, 1});
  auto info = item_self_information(t);
  EXPECT_NEAR(info[0], std::log2(1.3), 1e-15);
  EXPECT_NEAR(info[1], std::log2(13.0), 1e-15);
  const std::vector<int32_t> list = {0, 1};
  EXPECT_NEAR(novelty(list.data(), 2, 10, info), (std::log2(1.3) + std::log2(13.0)) / 2, 1e-15);
  // History in category 0; targets {1, 0}; list 1 (hit, category 1: unexpected), 0 (hit,
  // expected), 2 (miss) -> 1/3.
  auto t2 = testutil::make_table({0, 1, 1}, {}, 2, 0);
  const std::vector<int32_t> hist = {0, 0};
  CategoryDistribution p;
  p.compute(hist.data(), 2, t2);
  const std::vector<int32_t> l2 = {1, 0, 2};
  const std::vector<int32_t> targets = {1, 0};
  EXPECT_NEAR(serendipity(l2.data(), 3, 3, targets.data(), 2, t2, p), 1.0 / 3.0, 1e-15);
  EXPECT_NEAR(serendipity(l2.data(), 3, 1, targets.data(), 2, t2, p), 1.0, 1e-15);
}

}  // namespace
}  // namespace divrec::eval
