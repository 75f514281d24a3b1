// EpochSampler contract (the trainer's equivalence test depends on it): pure function of
// (seed, epoch), full equal batches on every rank, and 1 rank x 2B == union of 2 ranks x B.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/check.h"
#include "data_shards/sampler.h"

using namespace divrec::data;

TEST(Sampler, MatchesPythonReference) {
  // Values printed by tools/reference/sampler_permutation.py.
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(&state), 0xe220a8397b1dcdafull);  // the standard splitmix64 vector
  EXPECT_EQ(splitmix64_next(&state), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(epoch_permutation(10, 42, 0), (std::vector<int64_t>{4, 6, 7, 0, 9, 5, 1, 2, 3, 8}));
  EXPECT_EQ(epoch_permutation(10, 42, 1), (std::vector<int64_t>{8, 7, 9, 0, 1, 2, 5, 6, 4, 3}));
  EpochSampler s(10, 3, /*rank=*/1, /*world=*/2, /*seed=*/7);
  EXPECT_EQ(s.batch(2, 1), (std::vector<int64_t>{1, 8, 7}));
}

TEST(Sampler, EqualFullBatchesOnEveryRank) {
  const int64_t n = 103, B = 4;
  for (int world : {1, 2, 3, 5}) {
    int64_t expected = (n + B * world - 1) / (B * world);  // ceil(n / (B W))
    std::multiset<int64_t> seen;
    for (int r = 0; r < world; ++r) {
      EpochSampler s(n, B, r, world, 99);
      ASSERT_EQ(s.batches_per_epoch(), expected) << "world " << world;
      for (int64_t b = 0; b < s.batches_per_epoch(); ++b) {
        auto batch = s.batch(0, b);
        ASSERT_EQ(static_cast<int64_t>(batch.size()), B);
        for (auto i : batch) {
          ASSERT_GE(i, 0);
          ASSERT_LT(i, n);
          seen.insert(i);
        }
      }
    }
    // Every sequence at least once; wrapped positions repeat only the permutation's start.
    for (int64_t i = 0; i < n; ++i) EXPECT_GE(seen.count(i), 1u) << i;
    EXPECT_EQ(static_cast<int64_t>(seen.size()), expected * B * world);
  }
}

TEST(Sampler, OneRankWithDoubleBatchEqualsUnionOfTwoRanks) {
  const int64_t n = 57, B = 5;
  EpochSampler one(n, 2 * B, 0, 1, 1234);
  EpochSampler r0(n, B, 0, 2, 1234), r1(n, B, 1, 2, 1234);
  ASSERT_EQ(one.batches_per_epoch(), r0.batches_per_epoch());
  ASSERT_EQ(r0.batches_per_epoch(), r1.batches_per_epoch());
  for (int64_t epoch : {0, 3}) {
    for (int64_t b = 0; b < one.batches_per_epoch(); ++b) {
      auto whole = one.batch(epoch, b);
      auto a = r0.batch(epoch, b), c = r1.batch(epoch, b);
      a.insert(a.end(), c.begin(), c.end());
      EXPECT_EQ(whole, a) << "epoch " << epoch << " batch " << b;  // same order, rank 0 first
    }
  }
}

TEST(Sampler, PureFunctionOfSeedAndEpoch) {
  EpochSampler a(500, 16, 1, 4, 77), b(500, 16, 1, 4, 77), other_seed(500, 16, 1, 4, 78);
  // Different call orders (cache warm for another epoch) give the same batches.
  auto x = a.batch(2, 3);
  b.batch(0, 0);
  b.batch(5, 1);
  EXPECT_EQ(b.batch(2, 3), x);
  EXPECT_NE(a.batch(3, 3), x);
  EXPECT_NE(other_seed.batch(2, 3), x);
  EpochSampler copy = a;  // copyable (trainers keep it as a member)
  EXPECT_EQ(copy.batch(2, 3), x);
  copy = other_seed;
  EXPECT_EQ(copy.batch(2, 3), other_seed.batch(2, 3));
  EXPECT_EQ(epoch_permutation(500, 77, 2), epoch_permutation(500, 77, 2));
  EXPECT_NE(epoch_permutation(500, 77, 2), epoch_permutation(500, 77, 3));
  auto p = epoch_permutation(500, 77, 2);
  std::sort(p.begin(), p.end());
  for (int64_t i = 0; i < 500; ++i) ASSERT_EQ(p[static_cast<size_t>(i)], i);
}

TEST(Sampler, RejectsBadArguments) {
  EXPECT_THROW(EpochSampler(0, 4, 0, 1, 1), divrec::Error);
  EXPECT_THROW(EpochSampler(10, 0, 0, 1, 1), divrec::Error);
  EXPECT_THROW(EpochSampler(10, 4, 2, 2, 1), divrec::Error);
  EpochSampler s(10, 4, 0, 1, 1);
  EXPECT_THROW(s.batch(0, s.batches_per_epoch()), divrec::Error);
}
