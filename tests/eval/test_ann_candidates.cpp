// ANN candidates re-scored with the scoring kernel (eval/retrieval/ann_candidates.h) and the
// artifact's companion index file (ann_store.h): exact re-scores equal the kernel's bits, an index
// searched wide enough gives exactly the exact top N (history masked), lists do not depend on the
// calling thread, and a missing, foreign or mismatched index file is refused with a clear error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/expect_error.h"
#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "eval/retrieval/ann_candidates.h"
#include "eval/retrieval/ann_store.h"
#include "trainer/model/score_subset.h"

namespace divrec::eval {
namespace {

constexpr int64_t kItems = 1500, kDim = 24, kUsers = 12, kTop = 40, kHistory = 15;

std::vector<float> gaussian(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * kDim));
  for (auto& v : x) v = g(rng);
  return x;
}

using divrec::testing::expect_error;

class AnnCandidatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::set_log_quiet(true);
    items_ = gaussian(kItems, 3);
    users_ = gaussian(kUsers, 5);
    std::mt19937_64 rng(9);
    std::uniform_int_distribution<int32_t> pick(0, kItems - 1);
    history_.resize(kUsers * kHistory);
    for (auto& h : history_) h = pick(rng);
    for (int64_t b = 0; b < kUsers; ++b)
      exclude_.push_back({history_.data() + b * kHistory, kHistory});
    dir_ = std::filesystem::temp_directory_path() /
           ("divrec_ann_cand_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The kernel's exact top kTop of every user, history excluded.
  model::TopN exact(const model::ScoreTable& table) const {
    model::TopN top;
    model::score_top_n(table, users_.data(), kUsers, kTop, exclude_.data(), {}, top);
    return top;
  }

  // ann_top_n must return exactly the kernel's lists: same ids, same score bits.
  void expect_exact_lists(const AnnIndex& index, const model::ScoreTable& table,
                          const RetrievalOptions& opt) {
    const model::TopN want = exact(table);
    AnnScratch s;
    std::vector<int32_t> got(kTop);
    std::vector<float> got_scores(kTop);
    for (int64_t b = 0; b < kUsers; ++b) {
      const int count = ann_top_n(index, table, users_.data() + b * kDim, kTop, exclude_[b], opt, s,
                                  got.data(), got_scores.data());
      ASSERT_EQ(count, want.count[b]);
      for (int j = 0; j < count; ++j) {
        EXPECT_EQ(got[j], want.items[b * kTop + j]) << "user " << b << " rank " << j;
        EXPECT_EQ(got_scores[j], want.scores[b * kTop + j]) << "user " << b << " rank " << j;
      }
    }
  }

  std::vector<float> items_, users_;
  std::vector<int32_t> history_;
  std::vector<model::ExcludeList> exclude_;
  std::filesystem::path dir_;
};

TEST_F(AnnCandidatesTest, ScoreItemsHasTheKernelsBits) {
  for (auto precision : {model::ScorePrecision::kFp32, model::ScorePrecision::kBf16}) {
    model::ScoreTable table(items_.data(), kItems, kDim, precision);
    model::TopN all;
    model::score_top_n(table, users_.data(), kUsers, kItems, nullptr, {}, all);
    for (int64_t b = 0; b < kUsers; ++b) {
      std::vector<float> again(kItems);
      score_items(table, users_.data() + b * kDim, all.items.data() + b * kItems, kItems,
                  again.data());
      for (int64_t j = 0; j < kItems; ++j) {
        ASSERT_EQ(again[j], all.scores[b * kItems + j]) << model::score_precision_name(precision);
      }
    }
  }
  model::ScoreTable table(items_.data(), kItems, kDim, model::ScorePrecision::kFp32);
  const int32_t bad = kItems;
  float out;
  expect_error([&] { model::score_items(table, users_.data(), &bad, 1, &out); },
               {"outside the catalog"});
}

TEST_F(AnnCandidatesTest, WideHnswSearchGivesTheExactTopNWithHistoryMasked) {
  AnnBuildOptions b;
  b.build_threads = 1;
  const auto index = AnnIndex::build(items_.data(), kItems, kDim, b);
  RetrievalOptions opt;
  opt.mode = RetrievalMode::kAnn;
  opt.search.ef_search = 1000;
  for (auto precision : {model::ScorePrecision::kFp32, model::ScorePrecision::kBf16}) {
    model::ScoreTable table(items_.data(), kItems, kDim, precision);
    expect_exact_lists(index, table, opt);
  }
  EXPECT_EQ(ann_fetch_count(kTop, kHistory, 200, kItems), 200 + kHistory);
  EXPECT_EQ(ann_fetch_count(500, kHistory, 200, kItems), 500 + kHistory);
  EXPECT_EQ(ann_fetch_count(kTop, kHistory, 200, 100), 100);
}

TEST_F(AnnCandidatesTest, ExhaustiveIvfGivesTheExactTopN) {
  AnnBuildOptions b;
  b.kind = AnnKind::kIvfFlat;
  b.ivf_nlist = 16;
  const auto index = AnnIndex::build(items_.data(), kItems, kDim, b);
  RetrievalOptions opt;
  opt.search.nprobe = 16;  // every list: exhaustive
  model::ScoreTable table(items_.data(), kItems, kDim, model::ScorePrecision::kFp32);
  expect_exact_lists(index, table, opt);
}

TEST_F(AnnCandidatesTest, ListsDoNotDependOnTheThread) {
  AnnBuildOptions b;
  b.build_threads = 1;
  const auto index = AnnIndex::build(items_.data(), kItems, kDim, b);
  model::ScoreTable table(items_.data(), kItems, kDim, model::ScorePrecision::kFp32);
  RetrievalOptions opt;
  opt.search.ef_search = 24;  // narrow: candidates differ from the exact ones
  opt.min_candidates = kTop;
  auto run = [&](int64_t b0, std::vector<int32_t>& out) {
    AnnScratch s;
    std::vector<float> sc(kTop);
    out.assign(kUsers * kTop, -1);
    for (int64_t i = 0; i < kUsers; ++i) {
      const int64_t u = (b0 + i) % kUsers;  // another order per thread
      ann_top_n(index, table, users_.data() + u * kDim, kTop, exclude_[u], opt, s,
                out.data() + u * kTop, sc.data());
    }
  };
  std::vector<int32_t> serial;
  run(0, serial);
  std::vector<std::vector<int32_t>> par(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { run(t * 3, par[t]); });
  for (auto& t : threads) t.join();
  for (const auto& p : par) EXPECT_EQ(p, serial);
  // And the narrow search really is approximate here (not the exact lists again).
  const model::TopN want = exact(table);
  std::vector<int32_t> o;
  int64_t hits = 0;
  for (int64_t u = 0; u < kUsers; ++u) {
    hits += overlap(serial.data() + u * kTop, kTop, want.items.data() + u * kTop, kTop, o);
  }
  EXPECT_LT(hits, kUsers * kTop);
  EXPECT_GT(hits, kUsers * kTop / 4);
}

TEST_F(AnnCandidatesTest, IndexBesideArtifactRoundTripAndAppend) {
  const std::string artifact = path("model.h5");
  AnnBuildOptions b;
  b.build_threads = 1;
  const int64_t first = 1200;
  auto index = AnnIndex::build(items_.data(), first, kDim, b);
  const AnnIndexRef old_ref = save_ann_beside(index, artifact);
  EXPECT_EQ(old_ref.items, first);
  EXPECT_EQ(old_ref.file.rfind("model.h5.ann-", 0), 0u) << old_ref.file;
  EXPECT_EQ(load_ann_for(artifact, old_ref, items_.data(), first, kDim).size(), first);

  // Append the other items, save as the new artifact's index, drop the old file.
  index.add(items_.data() + first * kDim, kItems - first, kDim);
  const AnnIndexRef ref = save_ann_beside(index, artifact);
  EXPECT_NE(ref.file, old_ref.file);
  remove_stale_ann(artifact, ref.file);
  EXPECT_FALSE(core::path_exists(ann_index_path(artifact, old_ref.file)));
  const auto loaded = load_ann_for(artifact, ref, items_.data(), kItems, kDim);
  EXPECT_EQ(loaded.size(), kItems);
  EXPECT_EQ(loaded.vectors_crc(),
            AnnIndex::build(items_.data(), kItems, kDim, b).vectors_crc());  // as if built whole
  RetrievalOptions opt;
  opt.search.ef_search = 1000;
  model::ScoreTable table(items_.data(), kItems, kDim, model::ScorePrecision::kFp32);
  expect_exact_lists(loaded, table, opt);  // appended items are found
}

TEST_F(AnnCandidatesTest, MissingForeignOrMismatchedIndexIsRefused) {
  const std::string artifact = path("model.h5");
  AnnBuildOptions b;
  b.build_threads = 1;
  const AnnIndexRef ref =
      save_ann_beside(AnnIndex::build(items_.data(), kItems, kDim, b), artifact);
  AnnIndexRef none;
  expect_error([&] { load_ann_for(artifact, none, items_.data(), kItems, kDim); },
               {"has no ANN index", "--retrieval ann"});
  // The artifact's vectors are not the ones the index was built from.
  auto other = gaussian(kItems, 77);
  expect_error([&] { load_ann_for(artifact, ref, other.data(), kItems, kDim); },
               {"not the ones its ANN index was built from", "re-export"});
  // The record and the artifact disagree on the item count.
  expect_error([&] { load_ann_for(artifact, ref, items_.data(), kItems - 1, kDim); },
               {"records an index of [1500, 24]", "[1499, 24]"});
  // A foreign index (other vectors) under the recorded name.
  AnnIndex::build(other.data(), kItems, kDim, b).save(ann_index_path(artifact, ref.file));
  expect_error([&] { load_ann_for(artifact, ref, items_.data(), kItems, kDim); },
               {"does not belong to serving artifact", ref.file});
  // A missing one.
  std::filesystem::remove(ann_index_path(artifact, ref.file));
  expect_error([&] { load_ann_for(artifact, ref, items_.data(), kItems, kDim); },
               {"is missing", ref.file, "model.h5"});
}

TEST(RetrievalMode, NamesAndAutoRule) {
  EXPECT_EQ(parse_retrieval_mode("exact", "--retrieval"), RetrievalMode::kExact);
  EXPECT_EQ(parse_retrieval_mode("ann", "--retrieval"), RetrievalMode::kAnn);
  EXPECT_EQ(parse_retrieval_mode("auto", "--retrieval"), RetrievalMode::kAuto);
  expect_error([] { parse_retrieval_mode("hnsw", "--retrieval"); },
               {"--retrieval", "'hnsw'", "exact, ann, auto"});
  EXPECT_FALSE(wants_ann(RetrievalMode::kExact, 10'000'000));
  EXPECT_TRUE(wants_ann(RetrievalMode::kAnn, 10));
  EXPECT_FALSE(wants_ann(RetrievalMode::kAuto, kAutoAnnMinItems - 1));
  EXPECT_TRUE(wants_ann(RetrievalMode::kAuto, kAutoAnnMinItems));
  EXPECT_EQ(parse_ann_kind("ivf"), AnnKind::kIvfFlat);
}

}  // namespace
}  // namespace divrec::eval
