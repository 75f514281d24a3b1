// The blocked scoring kernel (model/score_kernel.h): bit-equal scores and lists whatever the user
// block, item block, thread count or ISA; against a double-precision reference computed here
// with plain loops; the tie rule (lower id first) on duplicated item vectors; exclusions;
// n above what is left; bf16 against fp32 within the bf16 rounding bound.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "trainer/model/score_kernel.h"

namespace divrec::model {
namespace {

struct Case {
  int64_t I, D, B;
  std::vector<float> items, users;
  std::vector<std::vector<int32_t>> hist;
  std::vector<ExcludeList> exclude;
};

Case make_case(int64_t I, int64_t D, int64_t B, uint32_t seed, int64_t dup_every = 0) {
  Case c{I, D, B, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  c.items.resize(static_cast<size_t>(I * D));
  for (auto& v : c.items) v = g(rng);
  if (dup_every > 0) {  // every dup_every-th item copies item 3 (made long): exact score ties
    for (int64_t d = 0; d < D; ++d) c.items[3 * D + d] *= 3;
    for (int64_t i = dup_every; i < I; i += dup_every) {
      std::copy_n(c.items.data() + 3 * D, D, c.items.data() + i * D);
    }
  }
  c.users.resize(static_cast<size_t>(B * D));
  for (auto& v : c.users) v = g(rng);
  std::uniform_int_distribution<int32_t> item(0, static_cast<int32_t>(I - 1));
  c.hist.resize(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < b % 7; ++j) c.hist[b].push_back(item(rng));
    if (b % 3 == 0 && !c.hist[b].empty()) c.hist[b].push_back(c.hist[b][0]);  // duplicate
  }
  for (auto& h : c.hist) c.exclude.push_back({h.data(), static_cast<int64_t>(h.size())});
  return c;
}

// Reference: double-precision dot products, history removed, sorted by the kernel's rule
// applied to the double scores.
std::vector<std::pair<double, int32_t>> reference(const Case& c, int64_t b, int64_t n) {
  std::vector<std::pair<double, int32_t>> all;
  for (int64_t i = 0; i < c.I; ++i) {
    if (std::count(c.hist[b].begin(), c.hist[b].end(), i)) continue;
    double s = 0;
    for (int64_t d = 0; d < c.D; ++d) {
      s += static_cast<double>(c.users[b * c.D + d]) * c.items[i * c.D + d];
    }
    all.push_back({s, static_cast<int32_t>(i)});
  }
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(n)));
  return all;
}

std::vector<ScoreIsa> isas() {
  std::vector<ScoreIsa> v = {ScoreIsa::kScalar};
  if (score_isa_supported(ScoreIsa::kAvx2)) v.push_back(ScoreIsa::kAvx2);
  if (score_isa_supported(ScoreIsa::kAvx512)) v.push_back(ScoreIsa::kAvx512);
  return v;
}

void expect_same(const TopN& a, const TopN& b, const char* what) {
  ASSERT_EQ(a.count, b.count) << what;
  ASSERT_EQ(a.items, b.items) << what;
  ASSERT_EQ(0, std::memcmp(a.scores.data(), b.scores.data(), a.scores.size() * sizeof(float)))
      << what << ": score bits differ";
}

TEST(ScoreKernel, BitEqualAcrossBlocksThreadsAndIsasAndMatchesDoubleReference) {
  at::set_num_threads(3);
  for (auto precision : {ScorePrecision::kFp32, ScorePrecision::kBf16}) {
    // 1000 items: the last panel is partial; D = 37: no multiple of any vector width.
    Case c = make_case(1000, 37, 70, 11);
    ScoreTable table(c.items.data(), c.I, c.D, precision);
    const int64_t n = 50;
    TopN base;
    ScoreOptions o0;
    o0.isa = ScoreIsa::kScalar;
    o0.user_block = 1;
    o0.item_block = 1;
    score_top_n(table, c.users.data(), c.B, n, c.exclude.data(), o0, base);
    for (ScoreIsa isa : isas()) {
      for (int64_t ub : {1, 3, 8, 64}) {
        for (int threads : {1, 2, 3}) {
          for (int64_t ib : {32, 100, 4096}) {
            ScoreOptions o;
            o.isa = isa;
            o.user_block = ub;
            o.item_block = ib;
            o.threads = threads;
            TopN got;
            score_top_n(table, c.users.data(), c.B, n, c.exclude.data(), o, got);
            expect_same(base, got, score_isa_name(isa));
          }
        }
      }
      // A user's result does not depend on its batch: user 5 alone equals row 5.
      ScoreOptions o;
      o.isa = isa;
      TopN one;
      score_top_n(table, c.users.data() + 5 * c.D, 1, n, &c.exclude[5], o, one);
      ASSERT_EQ(one.count[0], base.count[5]);
      EXPECT_TRUE(std::equal(one.items.begin(), one.items.end(), base.items.begin() + 5 * n));
      EXPECT_EQ(0, std::memcmp(one.scores.data(), base.scores.data() + 5 * n, n * sizeof(float)));
    }
    if (precision == ScorePrecision::kFp32) {
      for (int64_t b = 0; b < c.B; ++b) {
        auto ref = reference(c, b, n);
        ASSERT_EQ(base.count[b], static_cast<int>(ref.size()));
        for (size_t r = 0; r < ref.size(); ++r) {
          EXPECT_NEAR(base.scores[b * n + r], ref[r].first, 1e-5 * (1 + std::abs(ref[r].first)));
          // Ids may swap only where the reference scores are closer than float rounding.
          if (base.items[b * n + r] != ref[r].second) {
            EXPECT_NEAR(ref[r].first, ref[std::min(r + 1, ref.size() - 1)].first, 1e-4)
                << "user " << b << " rank " << r;
          }
        }
      }
    }
  }
}

TEST(ScoreKernel, TiesGoToTheLowerItemIdWhateverTheBlocking) {
  Case c = make_case(700, 16, 9, 5, /*dup_every=*/10);  // items 10, 20, ... copy item 3
  ScoreTable table(c.items.data(), c.I, c.D, ScorePrecision::kFp32);
  // A user aligned with item 3 ranks item 3 and its ~70 copies first: one score, ids ascending.
  std::copy_n(c.items.data() + 3 * c.D, c.D, c.users.data());
  c.hist[0].clear();
  c.exclude[0] = {nullptr, 0};
  for (int64_t ib : {32, 64, 1024}) {
    for (int threads : {1, 3}) {
      ScoreOptions o;
      o.item_block = ib;
      o.threads = threads;
      TopN t;
      score_top_n(table, c.users.data(), c.B, 40, c.exclude.data(), o, t);
      ASSERT_EQ(t.count[0], 40);
      EXPECT_EQ(t.items[0], 3);
      for (int r = 1; r < 40; ++r) {
        EXPECT_EQ(t.items[r], 10 * r) << "rank " << r;
        EXPECT_EQ(t.scores[r], t.scores[0]);
      }
    }
  }
}

TEST(ScoreKernel, ExclusionsAndNAboveWhatIsLeft) {
  Case c = make_case(40, 8, 4, 9);
  std::vector<int32_t> h = {0, 5, 5, 39, 17, 1000 /* outside: ignored */};
  c.exclude[2] = {h.data(), static_cast<int64_t>(h.size())};
  c.hist[2] = h;
  ScoreTable table(c.items.data(), c.I, c.D, ScorePrecision::kFp32);
  TopN t;
  score_top_n(table, c.users.data(), c.B, 100, c.exclude.data(), ScoreOptions{}, t);
  EXPECT_EQ(t.n, 40);  // n is cut at I
  for (int64_t b = 0; b < c.B; ++b) {
    std::vector<int32_t> distinct(c.hist[b]);
    distinct.erase(
        std::remove_if(distinct.begin(), distinct.end(), [](int32_t i) { return i >= 40; }),
        distinct.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    ASSERT_EQ(t.count[b], 40 - static_cast<int>(distinct.size())) << "user " << b;
    for (int r = 0; r < t.count[b]; ++r) {
      EXPECT_FALSE(std::binary_search(distinct.begin(), distinct.end(), t.items[b * 40 + r]));
      if (r > 0) {
        EXPECT_GE(t.scores[b * 40 + r - 1], t.scores[b * 40 + r]);
      }
    }
  }
  TopN none;
  score_top_n(table, c.users.data(), c.B, 0, nullptr, ScoreOptions{}, none);
  EXPECT_EQ(none.count, std::vector<int>(4, 0));
}

TEST(ScoreKernel, Bf16WithinItsRoundingOfFp32) {
  Case c = make_case(3000, 64, 16, 21);
  ScoreTable f32(c.items.data(), c.I, c.D, ScorePrecision::kFp32);
  ScoreTable bf16(c.items.data(), c.I, c.D, ScorePrecision::kBf16);
  EXPECT_EQ(bf16.bytes() * 2, f32.bytes());
  TopN a, b;
  score_top_n(f32, c.users.data(), c.B, 3000, nullptr, ScoreOptions{}, a);
  score_top_n(bf16, c.users.data(), c.B, 3000, nullptr, ScoreOptions{}, b);
  // Each item value moves by at most 2^-9 relative, so |s_bf16 - s_fp32| <= 2^-9 sum |u_d x_d|
  // (+ float rounding); with N(0, 1) values and D = 64 that is < 0.15 -- checked per item.
  for (int64_t u = 0; u < c.B; ++u) {
    std::vector<float> sa(c.I), sb(c.I);
    for (int64_t r = 0; r < c.I; ++r) {
      sa[a.items[u * c.I + r]] = a.scores[u * c.I + r];
      sb[b.items[u * c.I + r]] = b.scores[u * c.I + r];
    }
    for (int64_t i = 0; i < c.I; ++i) {
      double bound = 1e-5;
      for (int64_t d = 0; d < c.D; ++d) {
        bound += std::abs(c.users[u * c.D + d] * c.items[i * c.D + d]) / 256.0;
      }
      ASSERT_LE(std::abs(sa[i] - sb[i]), bound) << "user " << u << " item " << i;
    }
    // The top 10 of the two precisions overlap almost entirely.
    int common = 0;
    for (int r = 0; r < 10; ++r) {
      common += std::count(b.items.begin() + u * c.I, b.items.begin() + u * c.I + 10,
                           a.items[u * c.I + r]);
    }
    EXPECT_GE(common, 7) << "user " << u;
  }
}

TEST(ScoreKernel, BadOptionsAndPrecisionNames) {
  Case c = make_case(10, 4, 1, 1);
  ScoreTable t(c.items.data(), c.I, c.D, ScorePrecision::kFp32);
  TopN out;
  ScoreOptions o;
  o.user_block = 0;
  EXPECT_ANY_THROW(score_top_n(t, c.users.data(), 1, 3, nullptr, o, out));
  EXPECT_EQ(parse_score_precision("bf16", "--score-precision"), ScorePrecision::kBf16);
  try {
    parse_score_precision("fp16", "--score-precision");
    FAIL() << "fp16 accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--score-precision"), std::string::npos);
  }
}

}  // namespace
}  // namespace divrec::model
