// The re-ranking interface: option parsing and validation, input checks, list lengths, the
// factory, thread safety with per-thread workspaces, and workspace reuse without reallocation.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "core/check.h"
#include "eval/rerank/reranker.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const divrec::Error& e) {
    return e.what();
  }
  return "";
}

TEST(RerankerApi, ParseMethodAndValidate) {
  EXPECT_EQ(parse_rerank_method("dpp"), RerankMethod::kDpp);
  EXPECT_EQ(parse_rerank_method("calibrated"), RerankMethod::kCalibrated);
  for (auto m : {RerankMethod::kNone, RerankMethod::kMmr, RerankMethod::kDpp, RerankMethod::kXquad,
                 RerankMethod::kCalibrated}) {
    EXPECT_EQ(parse_rerank_method(rerank_method_name(m)), m);
  }
  EXPECT_NE(error_of([] {
              parse_rerank_method("MMR2");
            }).find("unknown method 'MMR2'; valid: none, mmr, dpp, xquad, calibrated"),
            std::string::npos);
  RerankConfig c;
  c.lambda = 1.5;
  EXPECT_NE(error_of([&] { validate(c); }).find("--lambda"), std::string::npos);
  c = RerankConfig();
  c.theta = -1;
  EXPECT_NE(error_of([&] { validate(c); }).find("--theta"), std::string::npos);
  c = RerankConfig();
  c.window = -2;
  EXPECT_NE(error_of([&] { validate(c); }).find("--window"), std::string::npos);
  c = RerankConfig();
  c.alpha = 0;
  EXPECT_THROW(validate(c), divrec::Error);
}

TEST(RerankerApi, FactoryChecksAndNames) {
  auto table = testutil::reference_table();
  auto vec = testutil::reference_vectors();
  auto sim = ItemSimilarity::cosine(vec.data(), testutil::kRefItems, testutil::kRefDim);
  RerankConfig c;
  c.method = RerankMethod::kDpp;
  c.theta = 2;
  c.window = 4;
  EXPECT_EQ(make_reranker(c, sim, table)->name(), "dpp(theta=2,window=4)");
  c.method = RerankMethod::kMmr;
  c.lambda = 0.25;
  EXPECT_EQ(make_reranker(c, sim, table)->name(), "mmr(lambda=0.25)");
  auto small = testutil::make_table({0, 1}, {}, 2, 0);
  EXPECT_NE(error_of([&] { make_reranker(c, sim, small); }).find("covers 12 items"),
            std::string::npos);
}

TEST(RerankerApi, InputChecksAndLengths) {
  auto table = testutil::reference_table();
  auto sim = ItemSimilarity::jaccard(table);
  RerankConfig c;
  auto none = make_reranker(c, sim, table);
  Workspace ws;
  std::vector<int32_t> items = {3, 1, 2};
  std::vector<float> scores = {0.5f, 0.5f, 0.9f};
  auto r = none->rerank(Candidates(items, scores), UserContext(), 10, Constraints(), ws);
  EXPECT_EQ(r.items, (std::vector<int32_t>{2, 3, 1}));  // ties keep candidate order
  EXPECT_EQ(r.positions, (std::vector<int32_t>{2, 0, 1}));
  for (Reason x : r.reasons) EXPECT_EQ(x, Reason::kRelevance);
  EXPECT_TRUE(
      none->rerank(Candidates(items, scores), UserContext(), 0, Constraints(), ws).items.empty());
  EXPECT_TRUE(none->rerank(Candidates(), UserContext(), 5, Constraints(), ws).items.empty());
  std::vector<int32_t> bad = {3, 12, 2};
  EXPECT_NE(error_of([&] {
              none->rerank(Candidates(bad, scores), UserContext(), 2, Constraints(), ws);
            }).find("candidate 1 has item id 12 outside [0, 12)"),
            std::string::npos);
  std::vector<float> nan_scores = {0.5f, NAN, 0.1f};
  EXPECT_THROW(none->rerank(Candidates(items, nan_scores), UserContext(), 2, Constraints(), ws),
               divrec::Error);
  EXPECT_THROW(Candidates(items, std::vector<float>{1.0f}), divrec::Error);
  EXPECT_STREQ(reason_name(Reason::kMinCategories), "min_categories");
}

// A batch of random requests (candidates from a 300-item catalog with 64-d vectors, repeats
// allowed) run through DPP + MMR with constraints.
struct Batch {
  data::ItemTable table;
  std::vector<float> vec;
  std::vector<std::vector<int32_t>> items;
  std::vector<std::vector<float>> scores;
  Batch() {
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> cat(0, 9), item(0, 299), na(0, 4), attr(0, 49);
    std::vector<int32_t> category(300);
    std::vector<std::vector<int32_t>> attrs(300);
    for (int i = 0; i < 300; ++i) {
      category[i] = cat(rng);
      std::set<int32_t> s;
      for (int j = 0, m = na(rng); j < m; ++j) s.insert(attr(rng));
      attrs[i].assign(s.begin(), s.end());
    }
    table = testutil::make_table(category, attrs, 10, 50);
    std::normal_distribution<float> g;
    vec.resize(300 * 64);
    for (auto& x : vec) x = g(rng);
    for (int u = 0; u < 40; ++u) {
      std::vector<int32_t> it(60 + u);
      std::vector<float> sc(it.size());
      for (size_t i = 0; i < it.size(); ++i) {
        it[i] = item(rng);
        sc[i] = 1.0f - 0.01f * i;
      }
      items.push_back(it);
      scores.push_back(sc);
    }
  }
};

TEST(RerankerApi, ThreadSafeWithPerThreadWorkspaces) {
  Batch b;
  auto sim = ItemSimilarity::cosine(b.vec.data(), 300, 64);
  Constraints cons;
  cons.min_categories = 4;
  cons.min_attributes = 6;
  cons.max_per_category = 3;
  cons.max_similarity = 0.6f;
  for (auto m : {RerankMethod::kDpp, RerankMethod::kMmr, RerankMethod::kCalibrated}) {
    RerankConfig c;
    c.method = m;
    c.window = m == RerankMethod::kDpp ? 5 : 0;
    auto r = make_reranker(c, sim, b.table);
    std::vector<std::vector<int32_t>> serial;
    Workspace ws;
    for (size_t u = 0; u < b.items.size(); ++u) {
      serial.push_back(r->rerank(Candidates(b.items[u], b.scores[u]),
                                 UserContext(b.items[(u + 1) % b.items.size()].data(), 10), 12,
                                 cons, ws)
                           .items);
    }
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        Workspace mine;
        for (int rep = 0; rep < 3; ++rep) {
          for (size_t u = t; u < b.items.size(); u += 2) {
            auto got = r->rerank(Candidates(b.items[u], b.scores[u]),
                                 UserContext(b.items[(u + 1) % b.items.size()].data(), 10), 12,
                                 cons, mine);
            mismatches[t] += got.items != serial[u];
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << rerank_method_name(m);
  }
}

TEST(RerankerApi, WorkspaceReuseNeitherReallocatesNorLeaksState) {
  Batch b;
  auto sim = ItemSimilarity::cosine(b.vec.data(), 300, 64);
  Constraints cons;
  cons.min_categories = 3;
  cons.min_distinct = 10;
  cons.min_attributes = 5;
  RerankConfig c;
  c.method = RerankMethod::kDpp;
  auto r = make_reranker(c, sim, b.table);
  Workspace ws;
  RerankResult out;
  auto run = [&](size_t u, Workspace& w, RerankResult& o) {
    r->rerank_into(Candidates(b.items[u], b.scores[u]), UserContext(), 10, cons, w, o);
  };
  const size_t largest = b.items.size() - 1;
  run(largest, ws, out);  // warm up on the largest request
  const void* before[] = {ws.rel.data(),   ws.gain.data(),    ws.chol.data(),
                          ws.resid.data(), ws.sim_row.data(), ws.near_maxsim.data(),
                          out.items.data()};
  for (size_t u = 0; u < b.items.size(); ++u) {
    run(u, ws, out);
    Workspace fresh;
    RerankResult want;
    run(u, fresh, want);
    EXPECT_EQ(out.items, want.items) << "request " << u;
    EXPECT_EQ(out.reasons, want.reasons) << "request " << u;
  }
  const void* after[] = {ws.rel.data(),     ws.gain.data(),        ws.chol.data(),  ws.resid.data(),
                         ws.sim_row.data(), ws.near_maxsim.data(), out.items.data()};
  for (size_t i = 0; i < std::size(before); ++i) EXPECT_EQ(before[i], after[i]) << "buffer " << i;
}

}  // namespace
}  // namespace divrec::eval
