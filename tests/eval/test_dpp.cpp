// DPP re-ranking against a naive greedy that recomputes log-determinants with a plain Cholesky
// (float64) for random PSD kernels, N up to 200, many seeds; the sliding-window variant against
// a naive windowed greedy; fixed examples against tools/reference/metrics_reference.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "eval/rerank/dpp.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log det of L restricted to idx, by plain Cholesky; -inf when not positive definite.
double logdet(const std::vector<double>& L, int n, const std::vector<int>& idx) {
  const int m = static_cast<int>(idx.size());
  std::vector<double> a(m * m);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) a[i * m + j] = L[idx[i] * n + idx[j]];
  double ld = 0;
  for (int j = 0; j < m; ++j) {
    double d = a[j * m + j];
    for (int k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
    if (!(d > 0)) return kNegInf;
    d = std::sqrt(d);
    a[j * m + j] = d;
    ld += 2 * std::log(d);
    for (int i = j + 1; i < m; ++i) {
      double s = a[i * m + j];
      for (int k = 0; k < j; ++k) s -= a[i * m + k] * a[j * m + k];
      a[i * m + j] = s / d;
    }
  }
  return ld;
}

// L = diag(q) S diag(q), q = exp(theta * rel), rel = min-max normalised scores (float64).
std::vector<double> kernel(const std::vector<double>& S, const std::vector<float>& scores,
                           double theta) {
  const int n = static_cast<int>(scores.size());
  double lo = *std::min_element(scores.begin(), scores.end());
  double hi = *std::max_element(scores.begin(), scores.end());
  std::vector<double> q(n);
  for (int i = 0; i < n; ++i) q[i] = std::exp(theta * (scores[i] - lo) / (hi - lo));
  std::vector<double> L(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) L[i * n + j] = q[i] * S[i * n + j] * q[j];
  return L;
}

// Walks the re-ranker's picks; at each step the naive greedy (given the same prefix) must choose
// the same candidate, or one whose log-det gain is within 1e-4 (a float near-tie, counted).
int check_against_naive(const std::vector<double>& L, int n, const std::vector<int32_t>& picks,
                        int window) {
  std::vector<int> chosen;
  int near_ties = 0;
  for (int32_t pick : picks) {
    std::vector<int> win = chosen;
    if (window > 0) {
      const int keep = std::min<int>(window - 1, static_cast<int>(chosen.size()));
      win.assign(chosen.end() - keep, chosen.end());
    }
    const double base = win.empty() ? 0.0 : logdet(L, n, win);
    std::vector<double> gain(n, kNegInf);
    int best = -1;
    for (int i = 0; i < n; ++i) {
      if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
      std::vector<int> s = win;
      s.push_back(i);
      gain[i] = logdet(L, n, s) - base;
      if (best < 0 || gain[i] > gain[best]) best = i;
    }
    if (pick != best) {
      EXPECT_LT(gain[best] - gain[pick], 1e-4)
          << "step " << chosen.size() << ": picked " << pick << " (gain " << gain[pick]
          << "), naive greedy " << best << " (gain " << gain[best] << ")";
      ++near_ties;
    }
    chosen.push_back(pick);
  }
  return near_ties;
}

// Random PSD S with unit diagonal: cosine Gram of Gaussian vectors with a shared component
// (mix in [0, 1) raises the typical similarity), dimension >= n so it has full rank.
std::vector<double> random_similarity(int n, double mix, std::mt19937& rng) {
  const int d = n + 8;
  std::normal_distribution<double> g;
  std::vector<double> shared(d);
  for (auto& x : shared) x = g(rng);
  std::vector<double> v(n * d);
  for (int i = 0; i < n; ++i) {
    double norm = 0;
    for (int j = 0; j < d; ++j) {
      v[i * d + j] = mix * shared[j] + (1 - mix) * g(rng);
      norm += v[i * d + j] * v[i * d + j];
    }
    for (int j = 0; j < d; ++j) v[i * d + j] /= std::sqrt(norm);
  }
  std::vector<double> S(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < d; ++k) s += v[i * d + k] * v[j * d + k];
      S[i * n + j] = i == j ? 1.0 : s;
    }
  return S;
}

struct Case {
  int n, k, window;
};

// Runs the DPP re-ranker on a precomputed kernel over items 0..n-1 given in candidate order by
// descending score; returns the picks as item ids (= indices into S).
std::vector<int32_t> run_dpp(const std::vector<double>& S, const std::vector<float>& scores,
                             double theta, int k, int window) {
  const int n = static_cast<int>(scores.size());
  std::vector<float> Sf(S.begin(), S.end());
  auto sim = ItemSimilarity::precomputed(Sf, n);
  auto table = testutil::make_table(std::vector<int32_t>(n, 0), {}, 1, 0);
  DppReranker dpp(sim, table, theta, window);
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<float> sorted_scores(n);
  for (int i = 0; i < n; ++i) sorted_scores[i] = scores[order[i]];
  Workspace ws;
  auto r = dpp.rerank(Candidates(order, sorted_scores), UserContext(), k, Constraints(), ws);
  EXPECT_EQ(static_cast<int>(r.items.size()), k);
  return r.items;
}

TEST(Dpp, MatchesNaiveGreedyOnRandomKernels) {
  const Case cases[] = {{20, 5, 0}, {50, 10, 0}, {120, 20, 0}, {200, 30, 0}, {200, 10, 0}};
  int steps = 0, near_ties = 0;
  for (const Case& c : cases) {
    for (int seed = 0; seed < 12; ++seed) {
      std::mt19937 rng(1000 * c.n + seed);
      std::uniform_real_distribution<double> u(0, 1);
      const double mix = seed % 3 == 0 ? 0.0 : 0.6 * u(rng);
      const double theta = 0.3 + 2.5 * u(rng);
      auto S = random_similarity(c.n, mix, rng);
      std::vector<float> scores(c.n);
      for (auto& s : scores) s = static_cast<float>(u(rng) * 4 - 2);
      auto picks = run_dpp(S, scores, theta, c.k, c.window);
      near_ties += check_against_naive(kernel(S, scores, theta), c.n, picks, c.window);
      steps += c.k;
    }
  }
  // Float rounding may swap exact near-ties only; they must stay rare.
  EXPECT_LE(near_ties, steps / 100) << near_ties << " near-ties in " << steps << " steps";
}

TEST(Dpp, SlidingWindowMatchesNaiveWindowedGreedy) {
  const Case cases[] = {{30, 12, 2}, {60, 20, 3}, {100, 25, 5}, {200, 40, 8}, {40, 15, 1}};
  int steps = 0, near_ties = 0;
  for (const Case& c : cases) {
    for (int seed = 0; seed < 10; ++seed) {
      std::mt19937 rng(7 + 31 * c.n + seed);
      std::uniform_real_distribution<double> u(0, 1);
      const double theta = 0.2 + 2.0 * u(rng);
      auto S = random_similarity(c.n, 0.5 * u(rng), rng);
      std::vector<float> scores(c.n);
      for (auto& s : scores) s = static_cast<float>(u(rng));
      auto picks = run_dpp(S, scores, theta, c.k, c.window);
      near_ties += check_against_naive(kernel(S, scores, theta), c.n, picks, c.window);
      steps += c.k;
    }
  }
  EXPECT_LE(near_ties, steps / 100) << near_ties << " near-ties in " << steps << " steps";
}

// The cosine kernel S = (1 + cos) / 2 from random vectors (D >= k, so it has full rank on the
// picks): the feature-space path (no window), and Chen's path with a window, against the naive
// greedy on the same kernel in float64.
TEST(Dpp, CosineKernelMatchesNaiveGreedy) {
  int steps = 0, near_ties = 0;
  for (int seed = 0; seed < 16; ++seed) {
    std::mt19937 rng(500 + seed);
    std::normal_distribution<float> g;
    std::uniform_real_distribution<double> u(0, 1);
    const int n = 60 + 10 * seed, dim = 48, k = 12 + seed;
    std::vector<float> vec(n * dim);
    for (auto& x : vec) x = g(rng);
    auto sim = ItemSimilarity::cosine(vec.data(), n, dim);
    auto table = testutil::make_table(std::vector<int32_t>(n, 0), {}, 1, 0);
    std::vector<double> S(n * n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        double dot = 0, a = 0, b = 0;
        for (int d = 0; d < dim; ++d) {
          dot += double(vec[i * dim + d]) * vec[j * dim + d];
          a += double(vec[i * dim + d]) * vec[i * dim + d];
          b += double(vec[j * dim + d]) * vec[j * dim + d];
        }
        S[i * n + j] = 0.5 + 0.5 * dot / std::sqrt(a * b);
      }
    }
    std::vector<int32_t> items(n);
    std::vector<float> scores(n);
    for (int i = 0; i < n; ++i) {
      items[i] = i;
      scores[i] = static_cast<float>(u(rng));
    }
    const double theta = 0.3 + 2 * u(rng);
    for (int window : {0, 4}) {
      Workspace ws;
      auto r = DppReranker(sim, table, theta, window)
                   .rerank(Candidates(items, scores), UserContext(), k, Constraints(), ws);
      near_ties += check_against_naive(kernel(S, scores, theta), n, r.items, window);
      steps += k;
    }
  }
  EXPECT_LE(near_ties, steps / 100) << near_ties << " near-ties in " << steps << " steps";
}

// A catalog with a zero vector elsewhere switches the cosine DPP from the feature-space path to
// Chen's kernel-row path; both must give the same lists.
TEST(Dpp, FeaturePathEqualsKernelRowPath) {
  const int n = 300, dim = 32;
  std::mt19937 rng(8);
  std::normal_distribution<float> g;
  std::vector<float> vec((n + 1) * dim, 0.f);  // item n: the zero vector
  for (int i = 0; i < n * dim; ++i) vec[i] = g(rng);
  auto features = ItemSimilarity::cosine(vec.data(), n, dim);
  auto rows = ItemSimilarity::cosine(vec.data(), n + 1, dim);
  ASSERT_FALSE(features.has_zero_vectors());
  ASSERT_TRUE(rows.has_zero_vectors());
  auto t1 = testutil::make_table(std::vector<int32_t>(n, 0), {}, 1, 0);
  auto t2 = testutil::make_table(std::vector<int32_t>(n + 1, 0), {}, 1, 0);
  std::uniform_int_distribution<int> item(0, n - 1);
  int equal = 0;
  for (int l = 0; l < 20; ++l) {
    std::vector<int32_t> items(100);
    std::vector<float> scores(100);
    for (int i = 0; i < 100; ++i) {
      items[i] = item(rng);
      scores[i] = 1.0f - 0.007f * i;
    }
    Workspace ws;
    auto a = DppReranker(features, t1, 1.0, 0)
                 .rerank(Candidates(items, scores), UserContext(), 25, Constraints(), ws);
    auto b = DppReranker(rows, t2, 1.0, 0)
                 .rerank(Candidates(items, scores), UserContext(), 25, Constraints(), ws);
    equal += a.items == b.items;
  }
  EXPECT_GE(equal, 19);  // float near-ties may swap at most one list
}

TEST(Dpp, WindowChangesTheListOnlyOnceItIsFull) {
  // With window >= k the window never drops an item: identical to the plain greedy.
  std::mt19937 rng(5);
  auto S = random_similarity(80, 0.4, rng);
  std::vector<float> scores(80);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& s : scores) s = static_cast<float>(u(rng));
  EXPECT_EQ(run_dpp(S, scores, 1.0, 15, 0), run_dpp(S, scores, 1.0, 15, 16));
  EXPECT_NE(run_dpp(S, scores, 1.0, 15, 0), run_dpp(S, scores, 1.0, 15, 2));
}

// Fixed example, golden lists from tools/reference/metrics_reference.py:
//   dpp theta=1.2 k=6 window=0: [0, 7, 9, 1, 6, 8] (smallest log-det gain gap 0.0533)
//   dpp theta=1.2 k=6 window=3: [0, 7, 9, 6, 8, 4] (smallest log-det gain gap 0.0507)
//   dpp theta=0.6 k=8 window=0: [0, 8, 4, 7, 6, 1, 2, 3] (smallest log-det gain gap 0.0215)
//   dpp theta=0.5 k=8 window=4: [0, 8, 4, 7, 6, 2, 10, 1] (smallest log-det gain gap 0.00481)
TEST(Dpp, CosineKernelMatchesReferenceScript) {
  auto vec = testutil::reference_vectors();
  auto sim = ItemSimilarity::cosine(vec.data(), testutil::kRefItems, testutil::kRefDim);
  auto table = testutil::reference_table();
  auto items = testutil::reference_items();
  auto scores = testutil::reference_scores();
  Workspace ws;
  auto run = [&](double theta, int k, int window) {
    return DppReranker(sim, table, theta, window)
        .rerank(Candidates(items, scores), UserContext(), k, Constraints(), ws)
        .items;
  };
  EXPECT_EQ(run(1.2, 6, 0), (std::vector<int32_t>{0, 7, 9, 1, 6, 8}));
  EXPECT_EQ(run(1.2, 6, 3), (std::vector<int32_t>{0, 7, 9, 6, 8, 4}));
  EXPECT_EQ(run(0.6, 8, 0), (std::vector<int32_t>{0, 8, 4, 7, 6, 1, 2, 3}));
  EXPECT_EQ(run(0.5, 8, 4), (std::vector<int32_t>{0, 8, 4, 7, 6, 2, 10, 1}));
}

TEST(Dpp, ExhaustedKernelFallsBackToRelevanceOrder) {
  // 3-d vectors: S = (1 + cos) / 2 has rank <= 4, so after 4 picks every residual is ~0 and the
  // rest of the list follows relevance.
  const int n = 30;
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  std::vector<float> vec(n * 3);
  for (auto& x : vec) x = g(rng);
  auto sim = ItemSimilarity::cosine(vec.data(), n, 3);
  auto table = testutil::make_table(std::vector<int32_t>(n, 0), {}, 1, 0);
  std::vector<int32_t> items(n);
  std::vector<float> scores(n);
  for (int i = 0; i < n; ++i) {
    items[i] = i;
    scores[i] = 1.0f - 0.01f * i;  // sorted descending
  }
  Workspace ws;
  auto r = DppReranker(sim, table, 1.0, 0)
               .rerank(Candidates(items, scores), UserContext(), 12, Constraints(), ws);
  ASSERT_EQ(r.items.size(), 12u);
  // The first 4 follow the naive greedy on the same kernel.
  std::vector<double> S(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) S[i * n + j] = i == j ? 1.0 : 0.5 + 0.5 * sim(i, j);
  std::vector<int32_t> head(r.items.begin(), r.items.begin() + 4);
  EXPECT_EQ(check_against_naive(kernel(S, scores, 1.0), n, head, 0), 0);
  // The remaining 8 are the most relevant unpicked candidates, in order.
  std::vector<int32_t> rest;
  for (int i = 0; i < n && rest.size() < 8; ++i) {
    if (std::find(head.begin(), head.end(), i) == head.end()) rest.push_back(i);
  }
  EXPECT_EQ(std::vector<int32_t>(r.items.begin() + 4, r.items.end()), rest);
  for (int p = 4; p < 12; ++p) EXPECT_EQ(r.reasons[p], Reason::kRelevance);
}

TEST(Dpp, DuplicateCandidatesArePickedOnceWhileOthersRemain) {
  auto vec = testutil::reference_vectors();
  auto sim = ItemSimilarity::cosine(vec.data(), testutil::kRefItems, testutil::kRefDim);
  auto table = testutil::reference_table();
  // Every item twice (two retrieval sources), same scores.
  std::vector<int32_t> items;
  std::vector<float> scores;
  auto s = testutil::reference_scores();
  for (int i = 0; i < testutil::kRefItems; ++i) {
    for (int rep = 0; rep < 2; ++rep) {
      items.push_back(i);
      scores.push_back(s[i]);
    }
  }
  Workspace ws;
  auto r = DppReranker(sim, table, 1.2, 0)
               .rerank(Candidates(items, scores), UserContext(), 8, Constraints(), ws);
  std::vector<int32_t> sorted = r.items;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << "an item repeated";
}

}  // namespace
}  // namespace divrec::eval
