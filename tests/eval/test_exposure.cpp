// Exposure metrics from histograms against tools/reference/metrics_reference.py (Gini by the
// mean-absolute-difference formula, entropy) and hand computations.
#include <gtest/gtest.h>

#include "core/check.h"
#include "eval/metrics/exposure.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

// metrics_reference.py:
//   gini [0, 0, 1, 3]: 0.625  entropy_bits: 0.811278124459133
//   gini [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]: 0.330769230769231  entropy_bits: 3.060577706797933
//   gini [0, 0, 0, 10]: 0.75  entropy_bits: 0
//   gini [7, 0, 2, 0, 0, 1]: 0.7  entropy_bits: 1.156779649447039
TEST(Exposure, GiniAndEntropy) {
  struct Case {
    std::vector<int64_t> x;
    double gini, entropy;
  };
  const Case cases[] = {{{0, 0, 1, 3}, 0.625, 0.811278124459133},
                        {{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, 0.330769230769231, 3.060577706797933},
                        {{0, 0, 0, 10}, 0.75, 0.0},
                        {{7, 0, 2, 0, 0, 1}, 0.7, 1.156779649447039}};
  for (const auto& c : cases) {
    const int64_t n = static_cast<int64_t>(c.x.size());
    EXPECT_NEAR(gini_index(c.x.data(), n), c.gini, 1e-14);
    EXPECT_NEAR(exposure_entropy_bits(c.x.data(), n), c.entropy, 1e-14);
  }
  // By hand: [0, 0, 1, 3] sorted: (2*3-5) * 1 + (2*4-5) * 3 = 10; 10 / (4 * 4) = 0.625.
  const std::vector<int64_t> zeros(5, 0), equal(4, 7);
  EXPECT_EQ(gini_index(zeros.data(), 5), 0.0);
  EXPECT_EQ(gini_index(equal.data(), 4), 0.0);
  EXPECT_NEAR(exposure_entropy_bits(equal.data(), 4), 2.0, 1e-15);
}

TEST(Exposure, CoverageAndLongTail) {
  const std::vector<int64_t> x = {5, 1, 0, 4};
  EXPECT_DOUBLE_EQ(catalog_coverage(x.data(), 4), 0.75);
  const std::vector<uint8_t> head = {1, 0, 0, 0};
  EXPECT_DOUBLE_EQ(long_tail_share(x.data(), head.data(), 4), 0.5);  // (1 + 0 + 4) / 10
}

TEST(Exposure, ContextHeadAndCategoryShares) {
  // Popularity 5, 9, 9, 0, 1 -> order 1, 2, 0, 4, 3 (ties by id); head 0.5 -> ceil(2.5) = 3.
  auto t = testutil::make_table({0, 1, 1, -1, 2}, {}, 3, 0, {5, 9, 9, 0, 1});
  auto ctx = ExposureContext::make(t, 0.5);
  EXPECT_EQ(ctx->head, (std::vector<uint8_t>{1, 1, 1, 0, 0}));
  EXPECT_EQ(ExposureContext::make(t, 0.2)->head, (std::vector<uint8_t>{0, 1, 0, 0, 0}));
  // Catalog: categorised items 0, 1, 2, 4 -> shares 1/4, 2/4, 1/4.
  EXPECT_EQ(ctx->catalog_share, (std::vector<double>{0.25, 0.5, 0.25}));
  // Exposures 1, 2, 3, 100 (uncategorised, ignored), 4 -> categories 1, 5, 4 of 10.
  const std::vector<int64_t> counts = {1, 2, 3, 100, 4};
  auto share = ctx->category_share(counts.data());
  EXPECT_EQ(share, (std::vector<double>{0.1, 0.5, 0.4}));
  EXPECT_NEAR(total_variation(share, ctx->catalog_share), 0.15, 1e-15);  // (.15 + 0 + .15) / 2
  auto bad = t;
  bad.popularity.pop_back();
  EXPECT_THROW(ExposureContext::make(bad), divrec::Error);
}

}  // namespace
}  // namespace divrec::eval
