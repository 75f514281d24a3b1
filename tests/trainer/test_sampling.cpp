// Negative sampling and cloze masking: constraints hold for every draw, frequencies match the
// intended distributions, and a seed fixes the result.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/check.h"
#include "trainer/masking.h"
#include "trainer/negatives.h"

using namespace divrec::trainer;

TEST(NegativeSampler, UniformExcludesPositiveAndIsUniform) {
  const int64_t items = 5;
  NegativeSampler sampler(std::vector<int64_t>(items, 3), /*seed=*/7);
  auto pos = torch::full({40000}, 2, torch::kInt64);
  auto neg = sampler.uniform_excluding(pos);
  ASSERT_EQ(neg.sizes(), torch::IntArrayRef({40000}));
  EXPECT_FALSE(neg.eq(2).any().item<bool>());
  EXPECT_TRUE((neg.ge(0) & neg.lt(items)).all().item<bool>());
  // The other 4 items each expect 10000 draws (sd ~87).
  auto counts = torch::bincount(neg, {}, items);
  for (int64_t i : {0, 1, 3, 4}) EXPECT_NEAR(counts[i].item<int64_t>(), 10000, 450) << i;
}

TEST(NegativeSampler, UniformManyNegativesPerRow) {
  NegativeSampler sampler(std::vector<int64_t>(3, 1), 1);
  auto pos = torch::tensor({0, 1, 2, 0}, torch::kInt64);
  auto neg = sampler.uniform_excluding(pos, 50);
  ASSERT_EQ(neg.sizes(), torch::IntArrayRef({4, 50}));
  EXPECT_FALSE(neg.eq(pos.unsqueeze(1)).any().item<bool>());
}

TEST(NegativeSampler, SameSeedSameDraws) {
  std::vector<int64_t> pop = {5, 0, 2, 9, 1, 1};
  NegativeSampler a(pop, 42), b(pop, 42), c(pop, 43);
  auto pos = torch::tensor({0, 3, 5, 5}, torch::kInt64);
  auto na = a.uniform_excluding(pos, 3);
  EXPECT_TRUE(torch::equal(na, b.uniform_excluding(pos, 3)));
  auto sa = a.popularity_shared(64), sb = b.popularity_shared(64), sc = c.popularity_shared(64);
  EXPECT_TRUE(torch::equal(sa.items, sb.items));
  EXPECT_FALSE(torch::equal(sa.items, sc.items));
}

TEST(NegativeSampler, PopularityFrequenciesAndLogQ) {
  // Popularity {0, 1, 2, 5} with smoothing 1 and power 1: weights {1, 2, 3, 6} / 12.
  NegativeSampler sampler({0, 1, 2, 5}, 3);
  const double q[4] = {1.0 / 12, 2.0 / 12, 3.0 / 12, 6.0 / 12};
  auto s = sampler.popularity_shared(60000);
  ASSERT_EQ(s.items.sizes(), torch::IntArrayRef({60000}));
  auto counts = torch::bincount(s.items, {}, 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(counts[i].item<int64_t>() / 60000.0, q[i], 0.01) << i;
    EXPECT_NEAR(sampler.log_q_table()[i].item<double>(), std::log(q[i]), 1e-6);
  }
  // log_q of the draws is the table lookup; log_q(items) keeps the shape.
  EXPECT_TRUE(torch::equal(s.log_q, sampler.log_q_table().index_select(0, s.items)));
  auto lq = sampler.log_q(torch::tensor({3, 0}, torch::kInt64).view({1, 2}));
  ASSERT_EQ(lq.sizes(), torch::IntArrayRef({1, 2}));
  EXPECT_NEAR(lq[0][0].item<double>(), std::log(0.5), 1e-6);
}

TEST(NegativeSampler, PowerZeroIsUniformAndZeroWeightNeverDrawn) {
  NegativeSampler uniform({100, 0, 7}, 5, /*power=*/0.0);
  EXPECT_NEAR(uniform.log_q_table()[1].item<double>(), std::log(1.0 / 3), 1e-6);
  NegativeSampler no_smoothing({4, 0, 4}, 5, 1.0, /*smoothing=*/0.0);
  EXPECT_FALSE(no_smoothing.popularity_shared(5000).items.eq(1).any().item<bool>());
  EXPECT_THROW(NegativeSampler({0, 0}, 1, 1.0, 0.0), divrec::Error);
}

namespace {
// Left-padded rows of lengths {0, 1, 3, 6} in L = 6, items 1..6 as input ids 2..7.
torch::Tensor batch() {
  auto ids = torch::zeros({4, 6}, torch::kInt64);
  const int64_t lens[4] = {0, 1, 3, 6};
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t j = 6 - lens[r]; j < 6; ++j) ids[r][j] = 2 + (r + j) % 6;
  return ids;
}
constexpr int64_t kMask = 9;
}  // namespace

TEST(MaskSequences, ConstraintsHoldForManySeeds) {
  auto ids = batch();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto m = mask_sequences(ids, 0.2, kMask, seed, 0.1);
    auto is_masked = m.inputs.eq(kMask);
    // Padding never masked, unmasked positions unchanged.
    EXPECT_FALSE((is_masked & ids.eq(0)).any().item<bool>());
    EXPECT_TRUE(torch::equal(m.inputs.masked_select(is_masked.logical_not()),
                             ids.masked_select(is_masked.logical_not())));
    // Empty row: nothing; every other row: at least one mask.
    auto per_row = is_masked.sum(1);
    EXPECT_EQ(per_row[0].item<int64_t>(), 0);
    for (int r = 1; r < 4; ++r) EXPECT_GE(per_row[r].item<int64_t>(), 1) << "seed " << seed;
    // Positions are exactly the masked cells; targets are their item ids.
    EXPECT_TRUE(torch::equal(m.positions, is_masked.reshape({-1}).nonzero().reshape({-1})));
    EXPECT_TRUE(torch::equal(m.targets, ids.reshape({-1}).index_select(0, m.positions) - 1));
  }
}

TEST(MaskSequences, LastOnlyAndFullMasking) {
  auto ids = batch();
  auto last = mask_sequences(ids, 0.2, kMask, uint64_t{1}, /*last_only_prob=*/1.0);
  EXPECT_TRUE(torch::equal(last.positions, torch::tensor({11, 17, 23}, torch::kInt64)));
  auto all = mask_sequences(ids, 1.0, kMask, uint64_t{1}, 0.0);
  EXPECT_TRUE(torch::equal(all.inputs.eq(kMask), ids.ne(0)));
}

TEST(MaskSequences, RateAndDeterminism) {
  auto ids = torch::randint(1, 50, {64, 50}, torch::kInt64);
  auto a = mask_sequences(ids, 0.3, 99, uint64_t{5}, 0.0);
  auto b = mask_sequences(ids, 0.3, 99, uint64_t{5}, 0.0);
  EXPECT_TRUE(torch::equal(a.inputs, b.inputs));
  EXPECT_NEAR(a.positions.numel() / 3200.0, 0.3, 0.03);
  // A shared generator advances: two calls differ.
  auto gen = at::detail::createCPUGenerator(5);
  auto c = mask_sequences(ids, 0.3, 99, gen, 0.0);
  auto d = mask_sequences(ids, 0.3, 99, gen, 0.0);
  EXPECT_TRUE(torch::equal(c.inputs, a.inputs));
  EXPECT_FALSE(torch::equal(c.inputs, d.inputs));
}
