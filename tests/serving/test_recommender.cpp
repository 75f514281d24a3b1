// Recommender: lists equal a direct computation with the checkpoint's model (SeqModel::
// user_vectors + score_all, history masked, sorted by score then id) for next-item and
// masked-item models; unknown ids are ignored and listed; empty/all-unknown histories fall back
// to popularity; constraints hold; settings are validated; concurrent requests give the same
// lists as sequential ones.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <thread>

#include "core/check.h"
#include "eval/model_loader.h"
#include "eval/rerank/constraints.h"
#include "serving/artifact_model.h"
#include "serving/fixtures.h"
#include "serving/recommender.h"
#include "trainer/model/scoring.h"

using namespace divrec;
using divrec::testing::make_serving_fixture;
using divrec::testing::ServingFixture;

namespace {

struct Loaded {
  ServingFixture fixture;
  std::shared_ptr<const serving::Recommender> rec;
  mutable eval::LoadedModel model;  // forward passes are not const in torch
  data::ItemTable items;
};

Loaded load(const std::string& objective) {
  Loaded l;
  l.fixture = make_serving_fixture("rec_" + objective, objective, 11);
  l.rec = serving::Recommender::load(l.fixture.artifact);
  l.items = data::read_item_table(l.fixture.data_dir);
  l.model = eval::load_model_for_eval(l.fixture.checkpoint, l.items);
  return l;
}

const Loaded& next_item() {
  static Loaded l = load("next-item");
  return l;
}

// The reference: the checkpoint's model, unpadded input of the last max_len items, every history
// item masked, all items sorted by (score desc, id asc), first k.
std::vector<std::pair<int32_t, float>> direct_top(const Loaded& l, const std::vector<int32_t>& hist,
                                                  int k) {
  torch::NoGradGuard ng;
  const int64_t L = std::min<int64_t>(static_cast<int64_t>(hist.size()), l.fixture.config.max_len);
  std::vector<int64_t> last(hist.end() - L, hist.end());
  auto ids = model::SeqModelImpl::to_input_ids(torch::tensor(last).view({1, L}));
  auto scores = l.model.model->score_all(l.model.model->user_vectors(ids, l.model.causal))[0];
  std::vector<float> s(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
  std::set<int32_t> masked(hist.begin(), hist.end());
  std::vector<int32_t> order;
  for (int32_t i = 0; i < static_cast<int32_t>(s.size()); ++i) {
    if (!masked.count(i)) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  std::vector<std::pair<int32_t, float>> out;
  for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i)
    out.emplace_back(order[i], s[order[i]]);
  return out;
}

std::vector<std::string> raw(const Loaded& l, const std::vector<int32_t>& dense) {
  std::vector<std::string> out;
  for (int32_t d : dense) out.push_back(l.items.raw_ids[d]);
  return out;
}

void expect_matches_direct(const Loaded& l, const std::vector<int32_t>& hist, int k) {
  serving::RecommendRequest req;
  req.history = raw(l, hist);
  req.settings.k = k;
  auto got = l.rec->recommend(req);
  auto want = direct_top(l, hist, k);
  ASSERT_EQ(got.items.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got.items[i].index, want[i].first) << "position " << i;
    EXPECT_EQ(got.items[i].item, l.items.raw_ids[want[i].first]);
    EXPECT_NEAR(got.items[i].score, want[i].second, 1e-4 * (1 + std::abs(want[i].second)));
    EXPECT_EQ(got.items[i].reason, eval::Reason::kRelevance);
    EXPECT_EQ(got.items[i].category, l.items.category[want[i].first]);
  }
  EXPECT_TRUE(got.unknown.empty());
  EXPECT_FALSE(got.popularity_fallback);
  EXPECT_EQ(got.history_used, static_cast<int64_t>(hist.size()));
}

TEST(Recommender, MatchesDirectModelComputation) {
  const auto& l = next_item();
  expect_matches_direct(l, {3}, 10);
  expect_matches_direct(l, {5, 17, 2, 40}, 10);
  // Longer than max_len (8): only the last 8 are encoded, all 13 are masked.
  expect_matches_direct(l, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 25);
  expect_matches_direct(l, {9, 9, 9, 30}, 5);  // repeats
}

// With fp32 scoring the score table's panels are the one copy of the item vectors: the
// artifact's tensor is dropped (and the id table), rows read back are the exported bits, and a
// user vector encoded from the gathered history rows equals, bit for bit, the one encoded from
// the whole [I, D] table (eval's path). With bf16 the fp32 tensor stays (the panels are rounded).
TEST(Recommender, Fp32KeepsItemVectorsOnlyInTheScoreTable) {
  for (const std::string objective : {"next-item", "masked-item"}) {
    auto fixture = make_serving_fixture("rec_once_" + objective, objective, 11);
    const serving::Artifact a = serving::read_artifact(fixture.artifact);
    const torch::Tensor full = a.item_vectors;  // what eval encodes with
    const int64_t I = full.size(0), D = full.size(1);
    auto rec = serving::Recommender::load(fixture.artifact);
    EXPECT_FALSE(rec->artifact().item_vectors.defined()) << objective;
    EXPECT_TRUE(rec->artifact().weights.empty()) << objective;
    EXPECT_GT(rec->items().content_dim, 0) << objective;
    EXPECT_TRUE(rec->items().content.empty() && rec->items().content_bits.empty()) << objective;
    std::vector<float> row(static_cast<size_t>(D));
    for (int32_t i = 0; i < I; ++i) {
      rec->item_vector(i, row.data());
      ASSERT_EQ(std::memcmp(row.data(), full[i].data_ptr<float>(), D * sizeof(float)), 0)
          << objective << " item " << i;
    }
    EXPECT_THROW(rec->item_vector(static_cast<int32_t>(I), row.data()), divrec::Error);
    auto model = serving::rebuild_model(a);
    for (const std::vector<int32_t>& h : {std::vector<int32_t>{3},
                                          {9, 9, 9, 30},
                                          {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
                                          {40, 2, 40, 17, 2, 5}}) {
      std::vector<float> got(static_cast<size_t>(D)), want(static_cast<size_t>(D));
      rec->user_vector(h.data(), static_cast<int64_t>(h.size()), got.data());
      model::encode_history(*model, full, objective == "next-item", h.data(),
                            static_cast<int64_t>(h.size()), want.data());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), D * sizeof(float)), 0)
          << objective << " history of " << h.size();
    }
    auto bf16 = serving::Recommender::load(fixture.artifact, model::ScorePrecision::kBf16);
    ASSERT_TRUE(bf16->artifact().item_vectors.defined());
    bf16->item_vector(7, row.data());
    EXPECT_EQ(std::memcmp(row.data(), full[7].data_ptr<float>(), D * sizeof(float)), 0);
  }
}

TEST(Recommender, MaskedItemObjective) {
  static Loaded l = load("masked-item");
  ASSERT_FALSE(l.model.causal);
  expect_matches_direct(l, {4}, 10);
  expect_matches_direct(l, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 10);
}

TEST(Recommender, UnknownIdsIgnoredAndListed) {
  const auto& l = next_item();
  serving::RecommendRequest with, without;
  with.history = {"no-such-item", l.items.raw_ids[5], "", l.items.raw_ids[17], "other"};
  without.history = {l.items.raw_ids[5], l.items.raw_ids[17]};
  auto a = l.rec->recommend(with);
  auto b = l.rec->recommend(without);
  EXPECT_EQ(a.unknown, (std::vector<std::string>{"no-such-item", "", "other"}));
  EXPECT_EQ(a.history_used, 2);
  ASSERT_EQ(a.items.size(), b.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(a.items[i].item, b.items[i].item);
}

TEST(Recommender, PopularityFallback) {
  const auto& l = next_item();
  // Expected: items by train popularity, ties by dense id (computed here from the table).
  std::vector<int32_t> order(static_cast<size_t>(l.items.num_items));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return l.items.popularity[a] > l.items.popularity[b] ||
           (l.items.popularity[a] == l.items.popularity[b] && a < b);
  });
  for (const auto& hist : {std::vector<std::string>{}, std::vector<std::string>{"x", "y"}}) {
    serving::RecommendRequest req;
    req.history = hist;
    req.settings.k = 12;
    auto r = l.rec->recommend(req);
    EXPECT_TRUE(r.popularity_fallback);
    EXPECT_EQ(r.history_used, 0);
    EXPECT_EQ(r.unknown, hist);
    ASSERT_EQ(r.items.size(), 12u);
    for (size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(r.items[i].index, order[i]) << i;
      EXPECT_FLOAT_EQ(r.items[i].score, static_cast<float>(l.items.popularity[order[i]]));
    }
  }
}

TEST(Recommender, ConstraintsHoldAndReasonsNameThem) {
  const auto& l = next_item();
  serving::RecommendRequest req;
  req.history = raw(l, {5, 17, 2, 40});
  req.settings.k = 10;
  req.settings.constraints.max_per_category = 2;
  req.settings.constraints.min_categories = 5;
  auto r = l.rec->recommend(req);
  ASSERT_EQ(r.items.size(), 10u);
  EXPECT_TRUE(r.feasible);
  std::map<int32_t, int> per_cat;
  std::vector<int32_t> list;
  bool constraint_reason = false;
  for (const auto& it : r.items) {
    ++per_cat[it.category];
    list.push_back(it.index);
    EXPECT_EQ(it.category, l.items.category[it.index]);
    if (it.category >= 0) {
      EXPECT_EQ(it.category_name, l.items.category_names[it.category]);
    }
    constraint_reason |=
        it.reason == eval::Reason::kMaxPerCategory || it.reason == eval::Reason::kMinCategories;
  }
  for (const auto& [c, n] : per_cat) {
    if (c >= 0) {
      EXPECT_LE(n, 2) << "category " << c;
    }
  }
  EXPECT_GE(per_cat.size() - per_cat.count(-1), 5u);
  // The unconstrained top 10 breaks the cap here, so some pick must name a constraint.
  auto plain = direct_top(l, {5, 17, 2, 40}, 10);
  std::map<int32_t, int> plain_cat;
  int worst = 0;
  for (auto& [i, s] : plain) worst = std::max(worst, ++plain_cat[l.items.category[i]]);
  if (worst > 2) {
    EXPECT_TRUE(constraint_reason);
  }
  const int64_t D = l.fixture.config.dim;
  std::vector<float> vectors(static_cast<size_t>(l.items.num_items * D));
  for (int32_t i = 0; i < l.items.num_items; ++i) l.rec->item_vector(i, vectors.data() + i * D);
  auto sim = eval::ItemSimilarity::cosine(vectors.data(), l.items.num_items, D);
  EXPECT_TRUE(eval::violated_constraints(list, req.settings.constraints, l.items, sim).empty());
  for (int32_t h : {5, 17, 2, 40}) {
    EXPECT_EQ(std::count(list.begin(), list.end(), h), 0) << "history item " << h << " listed";
  }
}

TEST(Recommender, DiversityMethodsRun) {
  const auto& l = next_item();
  for (auto m : {eval::RerankMethod::kMmr, eval::RerankMethod::kDpp, eval::RerankMethod::kXquad,
                 eval::RerankMethod::kCalibrated}) {
    for (auto sim : {eval::SimilarityKind::kCosine, eval::SimilarityKind::kJaccard}) {
      serving::RecommendRequest req;
      req.history = raw(l, {5, 17, 2, 40});
      req.settings.rerank.method = m;
      req.settings.rerank.lambda = 0.3;
      req.settings.similarity = sim;
      req.settings.candidates = 40;
      auto r = l.rec->recommend(req);
      ASSERT_EQ(r.items.size(), 10u) << eval::rerank_method_name(m);
      std::set<int32_t> distinct;
      for (const auto& it : r.items) distinct.insert(it.index);
      EXPECT_EQ(distinct.size(), 10u);
      // Every listed item comes from the top-40 candidates.
      auto top = direct_top(l, {5, 17, 2, 40}, 40);
      std::set<int32_t> cand;
      for (auto& [i, s] : top) cand.insert(i);
      for (const auto& it : r.items) EXPECT_TRUE(cand.count(it.index)) << it.index;
    }
  }
}

TEST(Recommender, ValidatesSettings) {
  const auto& l = next_item();
  serving::RecommendRequest req;
  req.history = raw(l, {1});
  req.settings.k = 0;
  EXPECT_THROW(l.rec->recommend(req), Error);
  req.settings.k = 10;
  req.settings.candidates = 5;
  EXPECT_THROW(l.rec->recommend(req), Error);
  req.settings.candidates = 100;
  req.settings.rerank.lambda = 2;
  EXPECT_THROW(l.rec->recommend(req), Error);
  req.settings.rerank.lambda = 0.5;
  // Dense ids outside the catalog (anywhere in the history, not only the encoded window).
  std::vector<int32_t> bad(20, 1);
  bad[0] = static_cast<int32_t>(l.items.num_items);
  EXPECT_THROW(l.rec->recommend_dense(bad, req.settings), Error);
  EXPECT_THROW(l.rec->recommend_dense({-1, 2}, req.settings), Error);
  EXPECT_EQ(l.rec->recommend_dense({1, 2}, req.settings).items.size(), 10u);
  // More candidates than items: the whole unmasked catalog, k items out.
  req.settings.candidates = 100000;
  EXPECT_EQ(l.rec->recommend(req).items.size(), 10u);
}

TEST(Recommender, ConcurrentRequestsMatchSequential) {
  const auto& l = next_item();
  std::vector<serving::RecommendRequest> reqs;
  for (int u = 0; u < 24; ++u) {
    serving::RecommendRequest r;
    for (int j = 0; j <= u % 11; ++j)
      r.history.push_back(l.items.raw_ids[(u * 7 + j * 13) % l.items.num_items]);
    r.settings.rerank.method = u % 2 ? eval::RerankMethod::kDpp : eval::RerankMethod::kMmr;
    r.settings.constraints.max_per_category = u % 3;
    reqs.push_back(r);
  }
  std::vector<std::vector<int32_t>> seq(reqs.size()), par(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    for (auto& it : l.rec->recommend(reqs[i]).items) seq[i].push_back(it.index);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        for (size_t i = t; i < reqs.size(); i += 4) {
          std::vector<int32_t> got;
          for (auto& it : l.rec->recommend(reqs[i]).items) got.push_back(it.index);
          if (rep == 0) par[i] = got;
          if (got != par[i]) par[i].clear();  // any difference between repeats shows as empty
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(par[i], seq[i]) << "request " << i;
}

TEST(Recommender, DescribeReportsArtifact) {
  const auto& l = next_item();
  auto j = l.rec->describe();
  EXPECT_EQ(j["format_version"], serving::kArtifactFormatVersion);
  EXPECT_EQ(j["items"], l.items.num_items);
  EXPECT_EQ(j["config"]["dim"], 16);
  EXPECT_EQ(j["objective"], "next-item");
  EXPECT_EQ(j["checksum_crc32"], fmt::format("{:#010x}", l.rec->artifact().checksum));
}

}  // namespace
