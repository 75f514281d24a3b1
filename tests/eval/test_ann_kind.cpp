// ANN index kinds by name and the automatic choices (eval/retrieval/ann_kind.h): names round
// trip, kAuto's size rule, auto_nprobe's rule, and a default build that resolves to IVF-flat at
// the threshold (HNSW below it: test_ann_index.cpp). Expected values are hand-computed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/expect_error.h"
#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/ann_kind.h"

namespace divrec::eval {
namespace {

using divrec::testing::expect_error;

TEST(AnnKind, NamesRoundTrip) {
  for (AnnKind k : {AnnKind::kAuto, AnnKind::kHnsw, AnnKind::kIvfFlat}) {
    EXPECT_EQ(parse_ann_kind(ann_kind_name(k)), k) << ann_kind_name(k);
  }
  EXPECT_STREQ(ann_kind_name(AnnKind::kAuto), "auto");
  EXPECT_STREQ(ann_kind_name(AnnKind::kHnsw), "hnsw");
  EXPECT_STREQ(ann_kind_name(AnnKind::kIvfFlat), "ivf-flat");
  EXPECT_EQ(parse_ann_kind("ivf"), AnnKind::kIvfFlat);
  expect_error([] { parse_ann_kind("ivfpq"); }, {"'ivfpq'", "auto, hnsw, ivf-flat"});
}

// kAuto is HNSW below 1,000,000 items and IVF-flat from there; explicit kinds are kept.
TEST(AnnKind, AutoKindBySize) {
  EXPECT_EQ(resolve_ann_kind(AnnKind::kAuto, 999'999), AnnKind::kHnsw);
  EXPECT_EQ(resolve_ann_kind(AnnKind::kAuto, 1'000'000), AnnKind::kIvfFlat);
  EXPECT_EQ(resolve_ann_kind(AnnKind::kHnsw, 10'000'000), AnnKind::kHnsw);
  EXPECT_EQ(resolve_ann_kind(AnnKind::kIvfFlat, 10), AnnKind::kIvfFlat);
}

// ceil(sqrt(nlist)) clamped to [min(16, nlist), nlist].
TEST(AnnKind, AutoNprobeRule) {
  EXPECT_EQ(auto_nprobe(1), 1);
  EXPECT_EQ(auto_nprobe(10), 10);
  EXPECT_EQ(auto_nprobe(16), 16);
  EXPECT_EQ(auto_nprobe(256), 16);  // sqrt = 16
  EXPECT_EQ(auto_nprobe(257), 17);  // sqrt = 16.03
  EXPECT_EQ(auto_nprobe(400), 20);
  EXPECT_EQ(auto_nprobe(4000), 64);    // 1 M items: nlist 4 sqrt(I); sqrt = 63.2
  EXPECT_EQ(auto_nprobe(12649), 113);  // 10 M items; sqrt = 112.5
  expect_error([] { auto_nprobe(0); }, {"nlist=0"});
}

// A default (kAuto) build of kIvfAutoMinItems items is IVF-flat, records that kind, and probes
// auto_nprobe(nlist) lists by default. 1-d items and one list keep it fast.
TEST(AnnKind, DefaultBuildAtTheThresholdIsIvf) {
  std::vector<float> items(static_cast<size_t>(kIvfAutoMinItems));
  for (size_t i = 0; i < items.size(); ++i) items[i] = static_cast<float>(i % 997) / 997.0f;
  AnnBuildOptions o;
  ASSERT_EQ(o.kind, AnnKind::kAuto);
  o.ivf_nlist = 1;
  o.ivf_train_sample = 1000;
  AnnIndex idx = AnnIndex::build(items.data(), kIvfAutoMinItems, 1, o);
  EXPECT_EQ(idx.kind(), AnnKind::kIvfFlat);
  EXPECT_EQ(idx.options().kind, AnnKind::kIvfFlat);
  EXPECT_EQ(idx.nprobe_for(AnnSearchParams{}), 1);
}

}  // namespace
}  // namespace divrec::eval
