// Real data (label data): the converters on ../shared/data give the published counts, and the
// results validate. Skipped when the shared data folder is absent. Expected category/attribute
// counts and train-event totals come from tools/reference/data_counts.py.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;

namespace {

std::string data_dir(const std::string& name) {
  divrec::core::set_log_quiet(true);
  std::string root = divrec::testing::shared_data_dir();
  if (root.empty() || !std::filesystem::is_directory(root + "/" + name)) return "";
  return root + "/" + name;
}

Manifest convert_and_validate(const RawDataset& raw, const std::string& name, int shards,
                              std::string* out_dir = nullptr) {
  WriteOptions o;
  o.output_dir = divrec::testing::scratch_dir(name) + "/ds";
  o.num_shards = shards;
  auto t0 = std::chrono::steady_clock::now();
  write_dataset(raw, o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ info ] " << name << ": wrote " << shards << " shards in " << secs << " s\n";
  validate_dataset(o.output_dir);
  ItemTable t = read_item_table(o.output_dir);
  int64_t train = 0;
  for (auto p : t.popularity) train += p;
  Manifest m = read_manifest(o.output_dir);
  if (out_dir) *out_dir = o.output_dir;
  EXPECT_EQ(train, m.num_interactions - 2 * m.num_users);  // leave-one-out: all but 2 per user
  return m;
}

}  // namespace

TEST(RealData, AmazonBeauty) {
  auto dir = data_dir("amazon-beauty");
  if (dir.empty())
    GTEST_SKIP() << "../shared/data/amazon-beauty not found (set DIVREC_SHARED_DATA)";
  auto t0 = std::chrono::steady_clock::now();
  RawDataset raw = convert_amazon_s3rec({dir, false});
  std::cout << "[ info ] amazon-beauty: parsed in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  std::string out;
  Manifest m = convert_and_validate(raw, "real_amazon", 4, &out);
  EXPECT_EQ(m.num_users, 22363);
  EXPECT_EQ(m.num_items, 12101);
  EXPECT_EQ(m.num_interactions, 198502);
  EXPECT_EQ(m.num_attributes, 637);
  EXPECT_EQ(m.num_categories, 629);  // tools/reference/data_counts.py
  EXPECT_EQ(m.shards.size(), 4u);
  EXPECT_EQ(m.category_method, "least-frequent-attribute");
  UserSequences u = read_all_users(out);
  int64_t max_len = 0;
  for (int64_t k = 0; k < u.num_users(); ++k) max_len = std::max(max_len, u.length(k));
  EXPECT_EQ(max_len, 204);  // tools/reference/data_counts.py
  // Times come from Beauty.abs_time.inter (unix seconds, 2000s-2010s), not positions.
  EXPECT_GT(u.times[0], 900000000);
}

TEST(RealData, Movielens100k) {
  auto dir = data_dir("movielens-100k");
  if (dir.empty()) GTEST_SKIP() << "../shared/data/movielens-100k not found";
  Manifest m = convert_and_validate(convert_movielens({dir, 0}), "real_ml", 2);
  EXPECT_EQ(m.num_users, 943);
  EXPECT_EQ(m.num_items, 1682);
  EXPECT_EQ(m.num_interactions, 100000);
  EXPECT_EQ(m.num_attributes, 19);  // genres
  EXPECT_EQ(m.num_categories, 19);  // tools/reference/data_counts.py: every genre is a first one
}

TEST(RealData, TaobaoSample) {
  auto dir = data_dir("taobao-sample");
  if (dir.empty()) GTEST_SKIP() << "../shared/data/taobao-sample not found";
  Manifest m = convert_and_validate(convert_taobao({dir, {}}), "real_taobao", 2);
  // tools/reference/data_counts.py
  EXPECT_EQ(m.num_users, 43);
  EXPECT_EQ(m.num_items, 3276);
  EXPECT_EQ(m.num_interactions, 4321);
  EXPECT_EQ(m.num_categories, 567);
}
