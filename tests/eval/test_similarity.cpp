// Item similarity (cosine rows against float64 dot products, Jaccard by hand, precomputed) and
// the vectorised kernels against their portable versions.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "core/check.h"
#include "eval/rerank/kernels.h"
#include "eval/rerank/similarity.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

TEST(Similarity, CosineRowsMatchFloat64) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (int dim : {1, 3, 8, 13, 64, 100}) {
    const int items = 41;
    std::vector<float> v(items * dim);
    for (auto& x : v) x = g(rng);
    auto sim = ItemSimilarity::cosine(v.data(), items, dim);
    std::vector<int32_t> cand;
    for (int i = 0; i < 37; ++i) cand.push_back((i * 7) % items);
    std::vector<float> row(cand.size());
    for (int32_t q : {0, 5, 40}) {
      sim.row(q, cand.data(), static_cast<int>(cand.size()), row.data());
      for (size_t i = 0; i < cand.size(); ++i) {
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < dim; ++d) {
          dot += double(v[q * dim + d]) * v[cand[i] * dim + d];
          na += double(v[q * dim + d]) * v[q * dim + d];
          nb += double(v[cand[i] * dim + d]) * v[cand[i] * dim + d];
        }
        const double want = cand[i] == q ? 1.0 : dot / std::sqrt(na * nb);
        EXPECT_NEAR(row[i], want, 2e-6) << "dim " << dim << " q " << q << " i " << i;
        EXPECT_EQ(row[i], sim(q, cand[i]));  // pairs and rows agree bit for bit
      }
    }
  }
}

TEST(Similarity, CosineZeroVectorAndSelf) {
  std::vector<float> v = {1, 0, 0, 0, 0, 0, 3, 4, 0};  // item 1 is the zero vector
  auto sim = ItemSimilarity::cosine(v.data(), 3, 3);
  EXPECT_FLOAT_EQ(sim(0, 2), 0.6f);  // (1, 0, 0) . (3, 4, 0) / 5
  EXPECT_FLOAT_EQ(sim(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(sim(1, 1), 1.0f);
  std::vector<int32_t> cand = {1, 1, 2};
  std::vector<float> row(3);
  sim.row(1, cand.data(), 3, row.data());
  EXPECT_EQ(row, (std::vector<float>{1.0f, 1.0f, 0.0f}));
  float unit[3];
  sim.normalised(2, unit);
  EXPECT_FLOAT_EQ(unit[0], 0.6f);
  EXPECT_FLOAT_EQ(unit[1], 0.8f);
  EXPECT_EQ(unit[2], 0.0f);
  std::vector<float> bad = {1, NAN, 0};
  EXPECT_THROW(ItemSimilarity::cosine(bad.data(), 1, 3), divrec::Error);
}

// shared_cosine keeps a reference instead of a copy (serving's item vectors are the only copy):
// the vectors stay alive through it alone, and pairs, rows and candidate rows are the copying
// version's bits.
TEST(Similarity, SharedCosineReferencesTheVectorsAndMatchesTheCopy) {
  constexpr int kItems = 40, kDim = 24;
  auto owner = std::make_shared<std::vector<float>>(kItems * kDim);
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  for (auto& x : *owner) x = g(rng);
  std::fill(owner->begin() + 5 * kDim, owner->begin() + 6 * kDim, 0.f);  // a zero vector
  const auto copied = ItemSimilarity::cosine(owner->data(), kItems, kDim);
  std::weak_ptr<std::vector<float>> alive = owner;
  auto shared = ItemSimilarity::shared_cosine(std::shared_ptr<const float>(owner, owner->data()),
                                              kItems, kDim);
  owner.reset();
  ASSERT_FALSE(alive.expired()) << "shared_cosine must keep the vectors alive";
  EXPECT_TRUE(shared.has_zero_vectors());
  std::vector<int32_t> items = {3, 5, 17, 3, 39, 0, 22};
  const int n = static_cast<int>(items.size());
  std::vector<float> a(n), b(n), c(n), block;
  shared.gather(items.data(), n, block);
  for (int p = 0; p < n; ++p) {
    copied.row(items[p], items.data(), n, a.data());
    shared.row(items[p], items.data(), n, b.data());
    shared.candidate_row(p, items.data(), n, block.data(), c.data());
    EXPECT_EQ(a, b);
    EXPECT_EQ(b, c);
    for (int i = 0; i < n; ++i) EXPECT_EQ(shared(items[p], items[i]), b[i]);
  }
  EXPECT_EQ(shared(5, 5), 1.f);
  EXPECT_EQ(shared(5, 17), 0.f);
}

TEST(Similarity, JaccardHandComputed) {
  // Sets {category} ∪ attributes: 0 = {c0, 1, 2, 3}; 1 = {c0, 2, 3, 4}; 2 = {c1}; 3 = {} (no
  // category, no attributes); 4 = {c1, 1}.
  auto table = testutil::make_table({0, 0, 1, -1, 1}, {{1, 2, 3}, {2, 3, 4}, {}, {}, {1}}, 2, 5);
  auto sim = ItemSimilarity::jaccard(table);
  EXPECT_FLOAT_EQ(sim(0, 1), 3.0f / 5.0f);  // {c0, 2, 3} / {c0, 1, 2, 3, 4}
  EXPECT_FLOAT_EQ(sim(0, 2), 0.0f);
  EXPECT_FLOAT_EQ(sim(2, 3), 0.0f);  // {c1} vs {}: 0 / 1
  EXPECT_FLOAT_EQ(sim(3, 3), 1.0f);
  EXPECT_FLOAT_EQ(sim(2, 4), 0.5f);  // {c1} / {c1, 1}
  EXPECT_FLOAT_EQ(sim(0, 4), 0.2f);  // {1} / {c0, 1, 2, 3, c1}
  std::vector<int32_t> cand = {0, 1, 2, 3, 4};
  std::vector<float> m(25);
  sim.matrix(cand.data(), 5, m.data());
  for (int i = 0; i < 5; ++i) {
    EXPECT_FLOAT_EQ(m[i * 5 + i], 1.0f);
    for (int j = 0; j < 5; ++j) EXPECT_FLOAT_EQ(m[i * 5 + j], m[j * 5 + i]);
  }
  EXPECT_FLOAT_EQ(m[0 * 5 + 1], 0.6f);
}

TEST(Similarity, PrecomputedAndParsing) {
  auto sim = ItemSimilarity::precomputed({1, 0.25f, 0.25f, 1}, 2);
  EXPECT_FLOAT_EQ(sim(0, 1), 0.25f);
  EXPECT_EQ(sim.kind(), SimilarityKind::kPrecomputed);
  EXPECT_THROW(ItemSimilarity::precomputed({1, 2, 3}, 2), divrec::Error);
  EXPECT_EQ(parse_similarity_kind("cosine"), SimilarityKind::kCosine);
  EXPECT_EQ(parse_similarity_kind("jaccard"), SimilarityKind::kJaccard);
  try {
    parse_similarity_kind("dot");
    FAIL() << "expected an error";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("valid: cosine, jaccard"), std::string::npos);
  }
}

TEST(Kernels, DispatchedMatchPortable) {
  std::mt19937 rng(2);
  std::normal_distribution<float> g;
  for (int n : {1, 3, 4, 7, 33, 1000}) {
    const int dim = 19;
    std::vector<float> table(50 * dim), q(dim);
    for (auto& x : table) x = g(rng);
    for (auto& x : q) x = g(rng);
    std::vector<int32_t> rows(n);
    for (int i = 0; i < n; ++i) rows[i] = (i * 13) % 50;
    std::vector<float> a(n), b(n);
    kernels::dot_rows(q.data(), table.data(), dim, rows.data(), n, a.data());
    kernels::portable::dot_rows(q.data(), table.data(), dim, rows.data(), n, b.data());
    for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-5f);

    std::vector<std::vector<float>> x(7, std::vector<float>(n));
    std::vector<const float*> xp;
    std::vector<float> coef(7);
    for (int r = 0; r < 7; ++r) {
      for (auto& v : x[r]) v = g(rng);
      xp.push_back(x[r].data());
      coef[r] = g(rng);
    }
    std::vector<float> s0(n), y1(n), y2(n);
    for (auto& v : s0) v = g(rng);
    for (int m : {0, 3, 7}) {
      kernels::project_out(s0.data(), 0.5f, 0.25f, xp.data(), coef.data(), m, y1.data(), n);
      kernels::portable::project_out(s0.data(), 0.5f, 0.25f, xp.data(), coef.data(), m, y2.data(),
                                     n);
      for (int i = 0; i < n; ++i) {
        double want = 0.5 + 0.25 * double(s0[i]);
        for (int r = 0; r < m; ++r) want -= double(coef[r]) * x[r][i];
        EXPECT_NEAR(y1[i], want, 1e-5);
        EXPECT_NEAR(y2[i], want, 1e-5);
      }
    }
    // DPP gains, max, argmax (first maximum), set_where_equal.
    std::vector<float> q2(n), res(n), rel(n), gd(n), gp(n);
    for (int i = 0; i < n; ++i) {
      q2[i] = std::fabs(g(rng));
      res[i] = i % 5 == 0 ? 0.f : std::fabs(g(rng));
      rel[i] = std::fabs(g(rng));
    }
    kernels::dpp_gains(q2.data(), res.data(), rel.data(), 1e-5f, gd.data(), n);
    kernels::portable::dpp_gains(q2.data(), res.data(), rel.data(), 1e-5f, gp.data(), n);
    EXPECT_EQ(gd, gp);
    for (int i = 0; i < n; ++i) EXPECT_EQ(gd[i], res[i] > 1e-5f ? q2[i] * res[i] : rel[i] - 2.f);
    gd[n / 2] = 1e9f;
    gd[n - 1] = 1e9f;  // a tie: the first one wins
    EXPECT_EQ(kernels::argmax(gd.data(), n), n / 2);
    EXPECT_EQ(kernels::portable::argmax(gd.data(), n), n / 2);
    EXPECT_EQ(kernels::max_value(gd.data(), n), 1e9f);
    EXPECT_EQ(kernels::portable::max_value(gd.data(), n), 1e9f);
    std::vector<float> ninf(n, -INFINITY);
    EXPECT_EQ(kernels::argmax(ninf.data(), n), -1);
    std::vector<int32_t> ids(n);
    for (int i = 0; i < n; ++i) ids[i] = i % 4;
    std::vector<float> out(n, 0.f);
    kernels::set_where_equal(ids.data(), 3, 1.f, out.data(), n);
    for (int i = 0; i < n; ++i) EXPECT_EQ(out[i], i % 4 == 3 ? 1.f : 0.f);
    std::vector<float> r1 = x[0], s1 = x[1], r2 = x[0], s2 = x[1];
    kernels::rotate(0.6f, 0.8f, r1.data(), s1.data(), n);
    kernels::portable::rotate(0.6f, 0.8f, r2.data(), s2.data(), n);
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(r1[i], 0.6 * x[0][i] + 0.8 * x[1][i], 1e-5);
      EXPECT_NEAR(s1[i], 0.6 * x[1][i] - 0.8 * x[0][i], 1e-5);
      EXPECT_NEAR(r1[i], r2[i], 1e-6f);
      EXPECT_NEAR(s1[i], s2[i], 1e-6f);
    }
  }
}

}  // namespace
}  // namespace divrec::eval
