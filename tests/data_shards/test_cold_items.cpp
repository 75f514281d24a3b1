// `shard convert --cold-items`: a seeded share of the items keeps only its test-target events
// (leave-one-out and temporal), so those items have train popularity 0; deterministic per seed;
// every other event is kept.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/build.h"
#include "data_shards/convert/converters.h"

using namespace divrec::data;

namespace {

RawDataset raw_data() {
  divrec::core::set_log_quiet(true);
  SyntheticOptions o;
  o.users = 300;
  o.items = 200;
  o.mean_length = 10;
  o.content_dim = 4;
  o.seed = 9;
  o.cover_items = true;  // every item has events
  return convert_synthetic(o);
}

// Raw ids of items that occur in the dataset only at test positions.
std::set<std::string> only_test_items(const BuiltDataset& b) {
  std::set<std::string> seen_test, seen_other;
  for (int64_t u = 0; u < b.users.num_users(); ++u) {
    const int32_t* s = b.users.seq(u);
    for (int64_t p = 0; p < b.users.length(u); ++p) {
      const auto& id = b.items.raw_ids[static_cast<size_t>(s[p])];
      (p >= b.users.test_start[static_cast<size_t>(u)] ? seen_test : seen_other).insert(id);
    }
  }
  std::set<std::string> out;
  for (const auto& id : seen_test) {
    if (!seen_other.count(id)) out.insert(id);
  }
  return out;
}

}  // namespace

TEST(ColdItems, HeldOutItemsKeepOnlyTestTargets) {
  const RawDataset raw = raw_data();
  WriteOptions o;
  const BuiltDataset base = build_dataset(raw, o);
  o.cold_items = 0.1;
  o.cold_seed = 3;
  const BuiltDataset b = build_dataset(raw, o);
  EXPECT_EQ(b.cold.items, 20);  // round(0.1 * 200 items with events)
  EXPECT_EQ(b.items.num_items, base.items.num_items);  // held-out items stay in the catalog
  int64_t zero_pop = 0, base_zero_pop = 0;
  for (int64_t p : b.items.popularity) zero_pop += p == 0;
  for (int64_t p : base.items.popularity) base_zero_pop += p == 0;
  EXPECT_GE(zero_pop, 20);  // every held-out item (plus the base data's own cold ones)
  EXPECT_LE(zero_pop, 20 + base_zero_pop);
  EXPECT_GT(b.cold.removed_events, 0);
  EXPECT_LE(b.manifest.num_interactions + b.cold.removed_events, base.manifest.num_interactions);
  // Every cold item still in the catalog is some user's test target and nothing else: train
  // popularity 0. Items of the base data with popularity 0 are few; the hold-out adds them.
  const auto cold = only_test_items(b);
  EXPECT_GT(cold.size(), 0u);
  EXPECT_LE(cold.size(), 20u + only_test_items(base).size());
  for (int64_t i = 0; i < b.items.num_items; ++i) {
    if (cold.count(b.items.raw_ids[static_cast<size_t>(i)])) {
      EXPECT_EQ(b.items.popularity[static_cast<size_t>(i)], 0) << b.items.raw_ids[i];
    }
  }
  // The test targets are the base data's (users left too short are dropped): the hold-out never
  // changes what is tested.
  std::map<std::string, std::string> base_target;
  for (int64_t u = 0; u < base.users.num_users(); ++u) {
    base_target[base.manifest.user_raw_ids[static_cast<size_t>(u)]] =
        base.items.raw_ids[base.users.seq(u)[base.users.length(u) - 1]];
  }
  EXPECT_LE(b.users.num_users(), base.users.num_users());
  EXPECT_GT(b.users.num_users(), base.users.num_users() * 9 / 10);
  for (int64_t u = 0; u < b.users.num_users(); ++u) {
    EXPECT_EQ(b.items.raw_ids[b.users.seq(u)[b.users.length(u) - 1]],
              base_target.at(b.manifest.user_raw_ids[static_cast<size_t>(u)]));
  }
  // Deterministic per seed; another seed picks other items.
  EXPECT_EQ(only_test_items(build_dataset(raw, o)), cold);
  o.cold_seed = 4;
  EXPECT_NE(only_test_items(build_dataset(raw, o)), cold);
}

TEST(ColdItems, TemporalSplitKeepsTheCutsOfAllEvents) {
  const RawDataset raw = raw_data();
  WriteOptions o;
  o.split.type = "temporal";
  o.min_seq_len = 1;
  const BuiltDataset base = build_dataset(raw, o);
  o.cold_items = 0.2;
  const BuiltDataset b = build_dataset(raw, o);
  EXPECT_EQ(b.manifest.test_cut_time, base.manifest.test_cut_time);
  EXPECT_EQ(b.manifest.valid_cut_time, base.manifest.valid_cut_time);
  EXPECT_EQ(b.cold.items, 40);
  for (int64_t i = 0; i < b.items.num_items; ++i) {
    // Held-out items (only test events left) have no train interactions.
    if (only_test_items(b).count(b.items.raw_ids[static_cast<size_t>(i)])) {
      EXPECT_EQ(b.items.popularity[static_cast<size_t>(i)], 0);
    }
  }
  o.cold_items = 1.0;
  EXPECT_THROW(build_dataset(raw, o), divrec::Error);
}
