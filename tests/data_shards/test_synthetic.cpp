// The synthetic generator: deterministic per seed, the requested sizes, and planted structure a
// sequential model can find (consecutive events share a category far more often than the
// category popularity alone explains; content vectors cluster by category).
#include <gtest/gtest.h>

#include <cmath>

#include "data_shards/build.h"
#include "data_shards/convert/converters.h"
#include "test_util.h"

using namespace divrec::data;

namespace {
SyntheticOptions small(uint64_t seed) {
  divrec::core::set_log_quiet(true);
  SyntheticOptions o;
  o.users = 200;
  o.items = 300;
  o.categories = 10;
  o.attributes = 30;
  o.mean_length = 12;
  o.content_dim = 8;
  o.seed = seed;
  return o;
}
}  // namespace

TEST(Synthetic, DeterministicPerSeed) {
  RawDataset a = convert_synthetic(small(5)), b = convert_synthetic(small(5));
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.item, b.item);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.attr_id, b.attr_id);
  RawDataset c = convert_synthetic(small(6));
  EXPECT_NE(a.item, c.item);
}

TEST(Synthetic, SizesAndSideInfo) {
  RawDataset r = convert_synthetic(small(1));
  EXPECT_EQ(r.users.size(), 200);
  EXPECT_EQ(r.items.size(), 300);
  EXPECT_EQ(r.content.size(), 300u * 8u);
  EXPECT_EQ(r.content_model, "synthetic-gaussian");
  // Mean length 12 (3 + exponential with mean 9): the sample mean of 200 users is within 25%.
  double mean = static_cast<double>(r.num_interactions()) / 200.0;
  EXPECT_GT(mean, 9.0);
  EXPECT_LT(mean, 15.0);
  WriteOptions o;
  BuiltDataset b = build_dataset(r, o);
  EXPECT_EQ(b.users.num_users(), 200);  // every user has >= 3 events
  EXPECT_EQ(b.items.num_categories, 10);
  for (int64_t i = 0; i < b.items.num_items; ++i) {
    EXPECT_GE(b.items.num_attrs(i), 1);
    EXPECT_LE(b.items.num_attrs(i), 3);
  }
}

TEST(Synthetic, PlantedStructureIsVisible) {
  RawDataset r = convert_synthetic(small(2));
  WriteOptions o;
  BuiltDataset b = build_dataset(r, o);
  const auto& u = b.users;
  const auto& cat = b.items.category;
  // P(consecutive events share a category) vs. sum_c share_c^2, what independent draws from
  // the same category distribution would give.
  std::vector<double> share(static_cast<size_t>(b.items.num_categories), 0.0);
  for (auto i : u.items) share[static_cast<size_t>(cat[static_cast<size_t>(i)])] += 1.0;
  double baseline = 0;
  for (auto& s : share) {
    s /= static_cast<double>(u.num_events());
    baseline += s * s;
  }
  int64_t same = 0, pairs = 0;
  for (int64_t k = 0; k < u.num_users(); ++k) {
    const int32_t* s = u.seq(k);
    for (int64_t p = 1; p < u.length(k); ++p, ++pairs) {
      same += cat[static_cast<size_t>(s[p])] == cat[static_cast<size_t>(s[p - 1])];
    }
  }
  double rate = static_cast<double>(same) / static_cast<double>(pairs);
  EXPECT_GT(rate, baseline + 0.3) << "same-category rate " << rate << ", baseline " << baseline;

  // Content: mean cosine within a category exceeds the mean across categories.
  const auto D = static_cast<size_t>(b.items.content_dim);
  const auto& c = b.items.content;
  auto cosine = [&](size_t x, size_t y) {
    double dot = 0, nx = 0, ny = 0;
    for (size_t d = 0; d < D; ++d) {
      dot += c[x * D + d] * c[y * D + d];
      nx += c[x * D + d] * c[x * D + d];
      ny += c[y * D + d] * c[y * D + d];
    }
    return dot / std::sqrt(nx * ny);
  };
  double in = 0, out = 0;
  int64_t nin = 0, nout = 0;
  for (size_t x = 0; x < static_cast<size_t>(b.items.num_items); ++x) {
    for (size_t y = x + 1; y < static_cast<size_t>(b.items.num_items); ++y) {
      if (cat[x] == cat[y]) {
        in += cosine(x, y);
        ++nin;
      } else {
        out += cosine(x, y);
        ++nout;
      }
    }
  }
  EXPECT_GT(in / static_cast<double>(nin), out / static_cast<double>(nout) + 0.3);
}

namespace {
std::vector<int64_t> lengths_of(const RawDataset& r) {
  std::vector<int64_t> len(static_cast<size_t>(r.users.size()), 0);
  for (int32_t u : r.user) ++len[static_cast<size_t>(u)];
  return len;
}
}  // namespace

// A benchmark over catalog sizes compares like with like: the users, their lengths and times do
// not depend on --items, --categories, --attributes, --content-dim or --cover-items.
TEST(Synthetic, UsersIndependentOfCatalog) {
  SyntheticOptions a = small(3), b = small(3);
  b.items = 5000;
  b.categories = 25;
  RawDataset ra = convert_synthetic(a), rb = convert_synthetic(b);
  EXPECT_EQ(ra.users.names(), rb.users.names());
  EXPECT_EQ(lengths_of(ra), lengths_of(rb));
  EXPECT_EQ(ra.time, rb.time);
  EXPECT_NE(ra.item, rb.item);
  // Side info comes from its own stream: dropping it changes no interaction.
  SyntheticOptions bare = small(3);
  bare.attributes = 0;
  bare.content_dim = 0;
  RawDataset re = convert_synthetic(bare);
  EXPECT_EQ(re.item, ra.item);
  EXPECT_EQ(re.item_category, ra.item_category);
  EXPECT_TRUE(re.attr_item.empty());
  EXPECT_TRUE(re.content.empty());
  b.cover_items = true;
  b.users = 600;  // ~7200 events for 5000 items
  a.users = 600;
  RawDataset rc = convert_synthetic(b), rd = convert_synthetic(a);
  EXPECT_EQ(lengths_of(rc), lengths_of(rd));
  EXPECT_EQ(rc.time, rd.time);
  EXPECT_EQ(rc.user, rd.user);
}

TEST(Synthetic, CoverItemsObservesEveryItem) {
  SyntheticOptions o = small(4);
  o.users = 600;  // ~7200 events
  o.items = 4000;
  o.categories = 20;
  RawDataset plain = convert_synthetic(o);
  o.cover_items = true;
  RawDataset r = convert_synthetic(o);
  // Only items change: same users, lengths, times; the valid/test targets (each user's last two
  // events) are kept, and every overwritten item still occurs.
  ASSERT_EQ(r.user, plain.user);
  EXPECT_EQ(r.time, plain.time);
  std::vector<int64_t> count(4000, 0), plain_count(4000, 0);
  for (int32_t i : r.item) ++count[static_cast<size_t>(i)];
  for (int32_t i : plain.item) ++plain_count[static_cast<size_t>(i)];
  int64_t changed = 0, unobserved = 0;
  const size_t n = r.item.size();
  for (size_t k = 0; k < n; ++k) {
    bool target = k + 2 >= n || r.user[k + 2] != r.user[k];
    if (target) {
      EXPECT_EQ(r.item[k], plain.item[k]) << "event " << k;
    }
    changed += r.item[k] != plain.item[k];
  }
  for (size_t i = 0; i < count.size(); ++i) {
    EXPECT_GE(count[i], 1) << "item " << i;
    unobserved += plain_count[i] == 0;
  }
  EXPECT_GT(unobserved, 1000);
  EXPECT_EQ(changed, unobserved);  // one event per unobserved item, no more
  // The catalog written is the whole catalog.
  WriteOptions w;
  BuiltDataset b = build_dataset(r, w);
  EXPECT_EQ(b.items.num_items, 4000);
  EXPECT_EQ(b.users.num_users(), 600);
}

TEST(Synthetic, CoverItemsNeedsEnoughEvents) {
  SyntheticOptions o = small(4);
  o.items = 10000;  // 200 users x ~12 events
  o.cover_items = true;
  try {
    convert_synthetic(o);
    FAIL() << "expected an error";
  } catch (const divrec::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("fewer than the 10000 --items"), std::string::npos) << what;
    EXPECT_NE(e.hint().find("pass --users >= "), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("--mean-length >= "), std::string::npos) << e.hint();
  }
  o.cover_items = false;
  EXPECT_NO_THROW(convert_synthetic(o));
}
