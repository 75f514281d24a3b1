// AnnIndex (Faiss HNSW / IVF-flat) on a small planted-cluster catalog against brute force:
// recall, save/load round trip, appended items, concurrent searches with different parameters,
// reused visited tables, divrec's IVF scan against Faiss's, and the file errors (missing, foreign,
// corrupt, other vectors, wrong dimension).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/expect_error.h"
#include "core/check.h"
#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/exact_topk.h"

namespace divrec::eval {
namespace {

constexpr int64_t kItems = 2000, kDim = 32, kClusters = 20, kUsers = 64, kTop = 50;

// Planted clusters: item = center[c] + 0.35 * noise, centers ~ N(0, 1). Users likewise.
std::vector<float> clustered(int64_t n, uint64_t seed, const std::vector<float>& centers) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_int_distribution<int64_t> pick(0, kClusters - 1);
  std::vector<float> x(n * kDim);
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = pick(rng);
    for (int64_t j = 0; j < kDim; ++j) x[i * kDim + j] = centers[c * kDim + j] + 0.35f * g(rng);
  }
  return x;
}

class AnnIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(7);
    std::normal_distribution<float> g(0.0f, 1.0f);
    centers_.resize(kClusters * kDim);
    for (auto& v : centers_) v = g(rng);
    items_ = clustered(kItems, 11, centers_);
    users_ = clustered(kUsers, 13, centers_);
    exact_ = exact_top_k(users_.data(), kUsers, items_.data(), kItems, kDim, kTop);
    dir_ = std::filesystem::temp_directory_path() /
           ("divrec_ann_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<float> centers_, items_, users_;
  std::vector<int64_t> exact_;
  std::filesystem::path dir_;
};

using divrec::testing::expect_error;

TEST_F(AnnIndexTest, ExactReferenceIsSortedAndRecallCountsOverlap) {
  for (int64_t b = 0; b < kUsers; ++b) {
    auto score = [&](int64_t id) {
      double s = 0;
      for (int64_t j = 0; j < kDim; ++j) s += users_[b * kDim + j] * items_[id * kDim + j];
      return s;
    };
    for (int64_t j = 1; j < kTop; ++j) {
      EXPECT_GE(score(exact_[b * kTop + j - 1]), score(exact_[b * kTop + j]) - 1e-4);
    }
  }
  EXPECT_DOUBLE_EQ(recall_at_k({1, 2, 3, -1}, {3, 2, 1, 4}, 1, 4), 0.75);
  EXPECT_DOUBLE_EQ(recall_at_k({1, 1, 9, 9}, {1, 2, 9, 8}, 2, 2), 0.5);  // repeats count once
  expect_error([] { recall_at_k({1, 2}, {1, 2, 3}, 1, 2); }, {"recall@k", "expected 1 x 2"});
}

TEST_F(AnnIndexTest, HnswRecallSaveLoadAndAppend) {
  AnnBuildOptions opts;
  opts.hnsw_m = 16;
  opts.ef_construction = 200;
  opts.build_threads = 1;  // Faiss's parallel HNSW insertion is not deterministic; this is
  AnnIndex idx = AnnIndex::build(items_.data(), kItems, kDim, opts);
  AnnSearchParams p;
  p.ef_search = 400;
  AnnHits hits = idx.search(users_.data(), kUsers, kTop, p);
  double recall = recall_at_k(hits.ids, exact_, kUsers, kTop);
  RecordProperty("hnsw_recall_at_50", std::to_string(recall));
  EXPECT_GE(recall, 0.99);
  for (int64_t b = 0; b < kUsers; ++b) EXPECT_EQ(hits.ids[b * kTop], exact_[b * kTop]) << b;

  idx.save(path("items.ann"));
  AnnIndex back = AnnIndex::load(path("items.ann"), items_.data(), kItems, kDim);
  EXPECT_EQ(back.size(), kItems);
  EXPECT_EQ(back.dim(), kDim);
  EXPECT_EQ(back.kind(), AnnKind::kHnsw);
  EXPECT_EQ(back.options().hnsw_m, 16);
  EXPECT_EQ(back.options().ef_construction, 200);
  EXPECT_EQ(back.search(users_.data(), kUsers, kTop, p).ids, hits.ids);  // same graph, same lists

  // Append 10 new items of the planted clusters (new products of existing categories), scaled
  // to the largest build norm (phi / 1.25): q.x <= |q| |x| < |q|^2 for every other x (no two
  // vectors are parallel), so a query equal to one must return it first. (Appended outliers, far
  // from every indexed item or of much larger norm, can be poorly linked: docs/serving.md.)
  constexpr int64_t kNew = 10;
  const float norm_new = back.mips_norm() / 1.25f;
  ASSERT_GT(back.mips_norm(), 0.0f);
  std::vector<float> fresh = clustered(kNew, 99, centers_);
  for (int64_t i = 0; i < kNew; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < kDim; ++j) norm += std::pow(fresh[i * kDim + j], 2);
    for (int64_t j = 0; j < kDim; ++j) fresh[i * kDim + j] *= norm_new / std::sqrt(norm);
  }
  std::vector<float> too_long(fresh.begin(), fresh.begin() + kDim);
  for (auto& v : too_long) v *= 1.1f * 1.25f;  // norm 1.1 phi: refused, index unchanged
  expect_error([&] { back.add(too_long.data(), 1, kDim); },
               {"item 2000 has norm", "phi=", "mips_headroom"});
  EXPECT_EQ(back.size(), kItems);
  back.add(fresh.data(), kNew, kDim);
  EXPECT_EQ(back.size(), kItems + kNew);
  AnnHits found = back.search(fresh.data(), kNew, 5, p);
  for (int64_t i = 0; i < kNew; ++i) {
    EXPECT_EQ(found.ids[i * 5], kItems + i);
    EXPECT_NEAR(found.scores[i * 5], norm_new * norm_new, 1e-3 * norm_new * norm_new);  // q.q
  }

  // The appended index saves with the checksum of the concatenated vectors.
  back.save(path("grown.ann"));
  std::vector<float> all = items_;
  all.insert(all.end(), fresh.begin(), fresh.end());
  EXPECT_EQ(AnnIndex::load(path("grown.ann"), all.data(), kItems + kNew, kDim).size(),
            kItems + kNew);
  expect_error([&] { AnnIndex::load(path("grown.ann"), items_.data(), kItems, kDim); },
               {"grown.ann", "holds 2010 items, expected 2000"});
}

TEST_F(AnnIndexTest, IvfFlatRecallAndRoundTrip) {
  AnnBuildOptions opts;
  opts.kind = AnnKind::kIvfFlat;
  opts.ivf_nlist = 32;
  opts.ivf_train_sample = 1000;  // a seeded sample smaller than the catalog
  AnnIndex idx = AnnIndex::build(items_.data(), kItems, kDim, opts);
  AnnSearchParams p;
  p.nprobe = 32;  // every list: exact up to float summation order
  AnnHits all_lists = idx.search(users_.data(), kUsers, kTop, p);
  EXPECT_GE(recall_at_k(all_lists.ids, exact_, kUsers, kTop), 0.99);
  p.nprobe = 8;
  AnnHits some = idx.search(users_.data(), kUsers, kTop, p);
  EXPECT_GE(recall_at_k(some.ids, exact_, kUsers, kTop), 0.9);
  idx.save(path("ivf.ann"));
  AnnIndex back = AnnIndex::load(path("ivf.ann"), items_.data(), kItems, kDim);
  EXPECT_EQ(back.kind(), AnnKind::kIvfFlat);
  EXPECT_EQ(back.options().ivf_nlist, 32);
  EXPECT_EQ(back.search(users_.data(), kUsers, kTop, p).ids, some.ids);
}

// divrec's IVF list scan (ivf_scan.h) against Faiss's own IndexIVFFlat::search on the same
// index: the same probed lists, so the same items, with scores equal up to float summation order
// (an item may swap places only with one whose score is within that rounding); best first,
// equal scores by lower id (20 items are duplicated, so exact ties occur); -1 past the items the
// lists hold; batches on 2 threads give the one-user-per-call lists. nlist 1 puts 2,020 items in
// one list and nlist 1,100 gives more centroids than one 1,024-row kernel call: both chunk paths.
TEST_F(AnnIndexTest, IvfScanGivesFaissListsAndScores) {
  constexpr int64_t kDup = 20, kAll = kItems + kDup;
  std::vector<float> items = items_;
  items.insert(items.end(), items_.begin(), items_.begin() + kDup * kDim);  // ids 2000.. = 0..
  for (int nlist : {32, 1, 1100}) {
    AnnBuildOptions opts;
    opts.kind = AnnKind::kIvfFlat;
    opts.ivf_nlist = nlist;
    AnnIndex idx = AnnIndex::build(items.data(), kAll, kDim, opts);
    int64_t ties = 0;
    for (int nprobe : {1, 3, 8, 32}) {
      AnnSearchParams p;
      p.nprobe = nprobe;
      p.ivf_scan = IvfScan::kFaiss;
      const AnnHits faiss = idx.search(users_.data(), kUsers, kTop, p);
      p.ivf_scan = IvfScan::kDivrec;
      p.threads = 2;
      const AnnHits ours = idx.search(users_.data(), kUsers, kTop, p);
      int64_t padded = 0;
      for (int64_t u = 0; u < kUsers; ++u) {
        const std::string at = "nlist " + std::to_string(nlist) + " nprobe " +
                               std::to_string(nprobe) + " user " + std::to_string(u);
        const int64_t* a = ours.ids.data() + u * kTop;
        const float* as = ours.scores.data() + u * kTop;
        const int64_t* b = faiss.ids.data() + u * kTop;
        const float* bs = faiss.scores.data() + u * kTop;
        EXPECT_EQ(std::count(a, a + kTop, -1), std::count(b, b + kTop, -1))
            << at << ": the same lists hold the same items";
        padded += std::count(a, a + kTop, -1);
        for (int64_t j = 0; j < kTop && b[j] >= 0; ++j) {
          const float tol = 1e-5f * std::max(1.0f, std::fabs(bs[j]));
          EXPECT_NEAR(as[j], bs[j], tol) << at << " rank " << j;
          if (a[j] != b[j]) {  // a swap is only allowed between near-equal scores
            EXPECT_TRUE(std::find(b, b + kTop, a[j]) != b + kTop ||
                        std::fabs(as[j] - as[kTop - 1]) <= 2 * tol)
                << at << ": item " << a[j] << " is not in Faiss's list and not at the cut";
          }
          if (j > 0 && a[j] >= 0) {
            EXPECT_TRUE(as[j - 1] > as[j] || (as[j - 1] == as[j] && a[j - 1] < a[j]))
                << at << " rank " << j << ": best first, equal scores by lower id";
            ties += as[j - 1] == as[j];
          }
        }
        p.threads = 1;
        EXPECT_EQ(idx.search(users_.data() + u * kDim, 1, kTop, p).ids,
                  std::vector<int64_t>(a, a + kTop))
            << at << ": one user per call";
      }
      if (nlist == 32 && nprobe == 1) {
        EXPECT_GT(padded, 0) << "some single lists hold fewer than k items";
      }
    }
    EXPECT_GT(ties, 0) << "nlist " << nlist << ": the duplicated items give exact ties";
  }
}

// --nprobe 0 (the default) probes auto_nprobe(nlist) lists: the same lists as asking for that
// many; larger requests are clamped to nlist; negative ones are errors. A default (kAuto) build
// of this small catalog is HNSW, and reports no lists.
TEST_F(AnnIndexTest, AutoNprobeAndAutoKind) {
  AnnBuildOptions opts;
  opts.kind = AnnKind::kIvfFlat;
  opts.ivf_nlist = 400;  // auto_nprobe: sqrt(400) = 20, above the floor of 16
  AnnIndex ivf = AnnIndex::build(items_.data(), kItems, kDim, opts);
  AnnSearchParams p;
  ASSERT_EQ(p.nprobe, 0);
  EXPECT_EQ(ivf.nprobe_for(p), 20);
  const auto by_default = ivf.search(users_.data(), kUsers, kTop, p);
  p.nprobe = 20;
  EXPECT_EQ(ivf.search(users_.data(), kUsers, kTop, p).ids, by_default.ids);
  p.nprobe = 19;
  EXPECT_NE(ivf.search(users_.data(), kUsers, kTop, p).ids, by_default.ids)
      << "one list fewer must change some list, or this test checks nothing";
  p.nprobe = 5000;
  EXPECT_EQ(ivf.nprobe_for(p), 400);
  p.nprobe = -1;
  expect_error([&] { ivf.search(users_.data(), 1, kTop, p); }, {"nprobe=-1"});

  AnnIndex dflt = AnnIndex::build(items_.data(), kItems, kDim, AnnBuildOptions{});
  EXPECT_EQ(dflt.kind(), AnnKind::kHnsw);
  EXPECT_EQ(dflt.nprobe_for(AnnSearchParams{}), 0);
  dflt.save(path("auto.ann"));
  EXPECT_EQ(AnnIndex::load(path("auto.ann")).kind(), AnnKind::kHnsw);
}

TEST_F(AnnIndexTest, ConcurrentSearchesWithOwnParametersMatchSequential) {
  AnnIndex idx = AnnIndex::build(items_.data(), kItems, kDim, AnnBuildOptions{});
  const int efs[4] = {16, 64, 128, 256};
  std::vector<std::vector<int64_t>> want(4), got(4);
  for (int t = 0; t < 4; ++t) {
    AnnSearchParams p;
    p.ef_search = efs[t];
    want[t] = idx.search(users_.data(), kUsers, kTop, p).ids;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AnnSearchParams p;
      p.ef_search = efs[t];
      for (int64_t b = 0; b < kUsers; ++b) {  // one user per call, as serving does
        auto row = idx.search(users_.data() + b * kDim, 1, kTop, p).ids;
        got[t].insert(got[t].end(), row.begin(), row.end());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[t], want[t]) << "ef_search " << efs[t];
}

// Every search on a thread reuses that thread's visited table (ann_index.cpp): results must be
// those of a fresh table (a new thread), for the same user twice in a row and past the table's
// 250-search reset.
TEST_F(AnnIndexTest, ReusedVisitedTableGivesTheResultsOfAFreshOne) {
  AnnIndex idx = AnnIndex::build(items_.data(), kItems, kDim, AnnBuildOptions{});
  AnnSearchParams p;
  p.ef_search = 64;
  std::vector<std::vector<int64_t>> fresh(kUsers);
  for (int64_t b = 0; b < kUsers; ++b) {
    std::thread([&, b] { fresh[b] = idx.search(users_.data() + b * kDim, 1, kTop, p).ids; }).join();
    ASSERT_EQ(fresh[b].size(), static_cast<size_t>(kTop));
    EXPECT_GE(fresh[b].back(), 0) << "user " << b << ": fewer than " << kTop << " hits";
  }
  for (int r = 0; r < 600; ++r) {
    const int64_t b = (r / 2) % kUsers;
    ASSERT_EQ(idx.search(users_.data() + b * kDim, 1, kTop, p).ids, fresh[b]) << "search " << r;
  }
}

TEST_F(AnnIndexTest, FileAndShapeErrorsNameTheFileAndTheExpectation) {
  AnnIndex idx = AnnIndex::build(items_.data(), kItems, kDim, AnnBuildOptions{});
  idx.save(path("ok.ann"));

  expect_error([&] { AnnIndex::load(path("missing.ann")); },
               {"missing.ann", "cannot open", "build the index first"});

  std::ofstream(path("notes.txt")) << "this is not an index, just some text long enough to read";
  expect_error([&] { AnnIndex::load(path("notes.txt")); },
               {"notes.txt", "not a divrec ANN index file", "DVRANNX1"});
  std::ofstream(path("short.ann")) << "DVR";
  expect_error([&] { AnnIndex::load(path("short.ann")); }, {"short.ann", "shorter"});

  // One flipped byte in the Faiss payload: caught by the payload CRC, before Faiss parses it.
  std::filesystem::copy_file(path("ok.ann"), path("flipped.ann"));
  {
    std::fstream f(path("flipped.ann"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(64 + 1000);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x5a;
    f.seekp(64 + 1000);
    f.write(&c, 1);
  }
  expect_error([&] { AnnIndex::load(path("flipped.ann")); }, {"flipped.ann", "payload CRC-32"});
  std::filesystem::resize_file(path("flipped.ann"), 4096);
  expect_error([&] { AnnIndex::load(path("flipped.ann")); }, {"flipped.ann", "truncated"});

  // Same shape, other vectors: the header's vector checksum says so.
  std::vector<float> other = items_;
  other[5 * kDim + 3] += 0.5f;
  expect_error([&] { AnnIndex::load(path("ok.ann"), other.data(), kItems, kDim); },
               {"ok.ann", "built from other item vectors", "rebuild the index"});
  // Wrong dimension, on load and on append.
  expect_error([&] { AnnIndex::load(path("ok.ann"), items_.data(), kItems * 2, kDim / 2); },
               {"ok.ann", "has dimension 32, expected 16"});
  expect_error([&] { idx.add(items_.data(), 3, kDim / 2); },
               {"dimension 16", "index has dimension 32"});
  expect_error([&] { idx.search(users_.data(), 1, kItems + 1, AnnSearchParams{}); },
               {"k=2001", "2000 items"});
  expect_error([] { parse_ann_kind("lsh"); }, {"lsh", "hnsw, ivf-flat"});
}

}  // namespace
}  // namespace divrec::eval
