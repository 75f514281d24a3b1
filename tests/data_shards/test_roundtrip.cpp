// write_dataset -> readers -> validate_dataset on a hand-made dataset (every expected number is
// worked out by hand in the comments) and on synthetic data; determinism; atomic replacement.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "data_shards/build.h"
#include "data_shards/convert/converters.h"
#include "data_shards/files.h"
#include "data_shards/ids.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;

namespace {

// Users "10", "9", "2" (+ "7" with 2 events, dropped), items a..e (+ "z", only in user 7).
// Input order is mixed and user 10's times are out of order (ties at t=3: a before c).
RawDataset hand_raw() {
  RawDataset r;
  r.source = "hand";
  r.input = "memory";
  r.category_method = "test";
  auto add = [&](const char* u, const char* i, int64_t t) {
    r.add(r.users.intern(u), r.items.intern(i), t, static_cast<int8_t>(EventType::kView));
  };
  add("10", "b", 5);
  add("9", "c", 1);
  add("10", "a", 3);
  add("2", "a", 1);
  add("7", "z", 1);
  add("2", "a", 2);
  add("10", "c", 3);
  add("9", "b", 2);
  add("2", "b", 3);
  add("10", "a", 9);
  add("2", "e", 4);
  add("9", "d", 3);
  add("7", "a", 2);
  add("2", "c", 5);
  auto cat = [&](const char* i, const char* c) {
    r.set_category(r.items.find(i), r.categories.intern(c));
  };
  cat("a", "cat2");
  cat("b", "cat1");
  cat("d", "cat1");
  cat("e", "cat10");
  cat("z", "cat3");
  auto attr = [&](const char* i, const char* a) {
    r.add_attribute(r.items.find(i), r.attributes.intern(a));
  };
  attr("a", "5");
  attr("a", "3");
  attr("b", "3");
  attr("d", "40");
  attr("d", "5");
  attr("d", "5");
  attr("z", "99");
  return r;
}

WriteOptions opts(const std::string& out, int shards) {
  WriteOptions o;
  o.output_dir = out;
  o.num_shards = shards;
  o.command = "divrec shard convert --test";
  return o;
}

std::vector<std::string> files_of(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(Ids, Fnv1aKnownVectorsAndNumericOrder) {
  // Standard FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  std::vector<std::string> names{"10", "9", "-1", "07", "7"};
  EXPECT_EQ(sorted_by_name(names, {0, 1, 2, 3, 4}), (std::vector<int32_t>{2, 3, 4, 1, 0}));
  names.push_back("x");  // one non-integer -> byte order for all
  EXPECT_EQ(sorted_by_name(names, {0, 1, 5}), (std::vector<int32_t>{0, 1, 5}));
}

TEST(Ids, InternerAddNewIsIndexedLazily) {
  Interner in;
  EXPECT_EQ(in.intern("a"), 0);
  EXPECT_EQ(in.add_new("b"), 1);
  EXPECT_EQ(in.add_new("c"), 2);
  EXPECT_EQ(in.find("c"), 2);  // the index catches up
  EXPECT_EQ(in.intern("b"), 1);
  EXPECT_EQ(in.intern("d"), 3);
  EXPECT_EQ(in.find("x"), -1);
  EXPECT_EQ(in.names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  in.add_new("a");  // breaks the caller's promise: caught when the index catches up
  EXPECT_THROW(in.find("a"), divrec::Error);
}

TEST(RoundTrip, HandMadeLeaveOneOut) {
  auto out = scratch_dir("rt_hand") + "/ds";
  Manifest written = write_dataset(hand_raw(), opts(out, 3));
  EXPECT_EQ(files_of(out), (std::vector<std::string>{"items.h5", "manifest.h5", "shard-00000.h5",
                                                     "shard-00001.h5", "shard-00002.h5"}));
  Manifest m = read_manifest(out);
  EXPECT_EQ(m.format_version, 1);
  EXPECT_EQ(m.source, "hand");
  EXPECT_EQ(m.command, "divrec shard convert --test");
  EXPECT_EQ(m.split, "leave-one-out");
  EXPECT_EQ(m.num_users, 3);  // "7" dropped (2 events < 3)
  EXPECT_EQ(m.num_items, 5);  // a..e; "z" only in the dropped user
  EXPECT_EQ(m.num_interactions, 12);
  // Users in numeric order: "2" -> 0, "9" -> 1, "10" -> 2.
  EXPECT_EQ(m.user_raw_ids, (std::vector<std::string>{"2", "9", "10"}));
  // fnv1a64 % 3 (tools: python one-liner): "2" -> 1, "9" -> 0, "10" -> 1; shard 2 empty.
  ASSERT_EQ(m.shards.size(), 3u);
  EXPECT_EQ(m.shards[0].num_users, 1);
  EXPECT_EQ(m.shards[1].num_users, 2);
  EXPECT_EQ(m.shards[2].num_users, 0);
  EXPECT_EQ(m.shards[0].crc32, divrec::core::crc32_file(out + "/shard-00000.h5"));
  EXPECT_EQ(m.items_crc32, divrec::core::crc32_file(out + "/items.h5"));
  EXPECT_EQ(written.shards[1].crc32, m.shards[1].crc32);

  ItemTable t = read_item_table(out);
  EXPECT_EQ(t.raw_ids, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  // Byte order "cat1" < "cat10" < "cat2"; item c has none -> "(none)" last.
  EXPECT_EQ(t.category_names, (std::vector<std::string>{"cat1", "cat10", "cat2", "(none)"}));
  EXPECT_EQ(t.category, (std::vector<int32_t>{2, 0, 3, 0, 1}));
  EXPECT_EQ(t.attribute_names, (std::vector<std::string>{"3", "5", "40"}));  // numeric order
  EXPECT_EQ(t.attr_offsets, (std::vector<int64_t>{0, 2, 3, 3, 5, 5}));
  EXPECT_EQ(t.attr_ids, (std::vector<int32_t>{0, 1, 0, 1, 2}));
  // Train = before valid_start = n - 2: user 2: a a b; user 9: c; user 10: a c.
  EXPECT_EQ(t.popularity, (std::vector<int64_t>{3, 1, 2, 0, 0}));
  EXPECT_EQ(t.content_dim, 0);

  UserSequences all = read_all_users(out);
  EXPECT_EQ(all.user_ids, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(all.offsets, (std::vector<int64_t>{0, 5, 8, 12}));
  // user 10 sorted by time, tie at t=3 keeps input order (a then c).
  EXPECT_EQ(all.items, (std::vector<int32_t>{0, 0, 1, 4, 2, 2, 1, 3, 0, 2, 1, 0}));
  EXPECT_EQ(all.times, (std::vector<int64_t>{1, 2, 3, 4, 5, 1, 2, 3, 3, 3, 5, 9}));
  EXPECT_EQ(all.valid_start, (std::vector<int32_t>{3, 1, 2}));
  EXPECT_EQ(all.test_start, (std::vector<int32_t>{4, 2, 3}));

  UserSequences s1 = read_shards(out, {1});
  EXPECT_EQ(s1.user_ids, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(read_shards(out, {2}).num_users(), 0);
  UserSequences s01 = read_shards(out, {1, 0});
  EXPECT_EQ(s01.items, all.items);
  // Ranks: ids % 2 == 0 -> {0, 2}, == 1 -> {1}.
  UserSequences r0 = read_users_for_rank(out, 0, 2), r1 = read_users_for_rank(out, 1, 2);
  EXPECT_EQ(r0.user_ids, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(r0.items, (std::vector<int32_t>{0, 0, 1, 4, 2, 0, 2, 1, 0}));
  EXPECT_EQ(r1.user_ids, (std::vector<int64_t>{1}));
  EXPECT_EQ(r1.valid_start, (std::vector<int32_t>{1}));
  EXPECT_EQ(read_sequence_lengths(out), (std::vector<int64_t>{5, 3, 4}));
  EXPECT_NO_THROW(validate_dataset(out));
  EXPECT_NE(error_of([&] { read_shards(out, {3}); }).find("shard index 3 out of range"),
            std::string::npos);
}

TEST(RoundTrip, TemporalSplitExplicitAndQuantileCuts) {
  auto d = scratch_dir("rt_temporal");
  WriteOptions o = opts(d + "/explicit", 2);
  o.split.type = "temporal";
  o.split.explicit_cuts = true;
  o.split.valid_cut = 3;
  o.split.test_cut = 5;
  write_dataset(hand_raw(), o);
  // user 2 times 1 2 3 4 5 -> first >= 3 at 2, >= 5 at 4; user 9: 1 2 3 -> 2, 3;
  // user 10: 3 3 5 9 -> 0, 2.
  UserSequences u = read_all_users(d + "/explicit");
  EXPECT_EQ(u.valid_start, (std::vector<int32_t>{2, 2, 0}));
  EXPECT_EQ(u.test_start, (std::vector<int32_t>{4, 3, 2}));
  // Train: user 2: a a; user 9: c b -> a 2, b 1, c 1.
  EXPECT_EQ(read_item_table(d + "/explicit").popularity, (std::vector<int64_t>{2, 1, 1, 0, 0}));
  EXPECT_NO_THROW(validate_dataset(d + "/explicit"));

  // Sorted times 1 1 2 2 3 3 3 3 4 5 5 9 (12 events): test cut = sorted[12 - 3] = 5,
  // valid cut = sorted[12 - 6] = 3: the same cuts as above.
  o.output_dir = d + "/frac";
  o.split.explicit_cuts = false;
  o.split.valid_frac = 0.25;
  o.split.test_frac = 0.25;
  write_dataset(hand_raw(), o);
  Manifest m = read_manifest(d + "/frac");
  EXPECT_EQ(m.split, "temporal");
  EXPECT_EQ(m.valid_cut_time, 3);
  EXPECT_EQ(m.test_cut_time, 5);
  EXPECT_EQ(read_all_users(d + "/frac").valid_start, u.valid_start);
  EXPECT_NO_THROW(validate_dataset(d + "/frac"));
}

TEST(RoundTrip, SyntheticMatchesInMemoryBuild) {
  SyntheticOptions so;
  so.users = 200;
  so.items = 120;
  so.categories = 6;
  so.attributes = 24;
  so.content_dim = 8;
  so.seed = 3;
  RawDataset raw = convert_synthetic(so);
  auto out = scratch_dir("rt_syn") + "/ds";
  write_dataset(raw, opts(out, 4));
  BuiltDataset b = build_dataset(raw, opts(out, 4));
  UserSequences u = read_all_users(out);
  EXPECT_EQ(u.user_ids, b.users.user_ids);
  EXPECT_EQ(u.offsets, b.users.offsets);
  EXPECT_EQ(u.items, b.users.items);
  EXPECT_EQ(u.times, b.users.times);
  EXPECT_EQ(u.events, b.users.events);
  EXPECT_EQ(u.valid_start, b.users.valid_start);
  EXPECT_EQ(u.test_start, b.users.test_start);
  ItemTable t = read_item_table(out);
  EXPECT_EQ(t.content, b.items.content);
  EXPECT_EQ(t.content_dim, 8);
  EXPECT_EQ(t.content_model, "synthetic-gaussian");
  EXPECT_EQ(t.category, b.items.category);
  EXPECT_EQ(t.attr_ids, b.items.attr_ids);
  EXPECT_EQ(t.popularity, train_popularity(u, t.num_items));
  // Per-rank readers partition the users.
  int64_t total = 0;
  for (int r = 0; r < 3; ++r) {
    UserSequences ru = read_users_for_rank(out, r, 3);
    for (auto id : ru.user_ids) EXPECT_EQ(id % 3, r);
    total += ru.num_users();
  }
  EXPECT_EQ(total, u.num_users());
  EXPECT_NO_THROW(validate_dataset(out));
}

TEST(RoundTrip, SameInputGivesByteIdenticalFiles) {
  SyntheticOptions so;
  so.users = 200;
  so.items = 100;
  so.categories = 5;
  auto d = scratch_dir("rt_det");
  write_dataset(convert_synthetic(so), opts(d + "/a", 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // timestamps would differ
  write_dataset(convert_synthetic(so), opts(d + "/b", 3));
  auto names = files_of(d + "/a");
  ASSERT_EQ(names, files_of(d + "/b"));
  for (const auto& n : names) {
    EXPECT_EQ(divrec::core::read_file(d + "/a/" + n), divrec::core::read_file(d + "/b/" + n)) << n;
  }
}

TEST(RoundTrip, FailedWriteLeavesExistingOutput) {
  auto out = scratch_dir("rt_atomic") + "/ds";
  write_dataset(hand_raw(), opts(out, 2));
  auto before = divrec::core::read_file(out + "/manifest.h5");
  RawDataset empty;
  empty.input = "nothing.txt";
  auto msg = error_of([&] { write_dataset(empty, opts(out, 2)); });
  EXPECT_NE(msg.find("no interactions in input 'nothing.txt'"), std::string::npos) << msg;
  WriteOptions bad = opts(out, 2);
  bad.min_seq_len = 2;  // leave-one-out needs 3
  msg = error_of([&] { write_dataset(hand_raw(), bad); });
  EXPECT_NE(msg.find("leave-one-out needs users with >= 3 events"), std::string::npos) << msg;
  bad.min_seq_len = 100;
  msg = error_of([&] { write_dataset(hand_raw(), bad); });
  EXPECT_NE(msg.find("at least 100 interactions"), std::string::npos) << msg;
  EXPECT_EQ(divrec::core::read_file(out + "/manifest.h5"), before);
  EXPECT_NO_THROW(validate_dataset(out));
  EXPECT_EQ(files_of(out + "/..").size(), 1u);  // no temp directories left behind
}
