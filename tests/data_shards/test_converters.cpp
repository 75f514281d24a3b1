// Each converter on small hand-written inputs (expected values worked out by hand in comments),
// through write_dataset and the readers; plus their bad-input errors (file:line and the text).
#include <gtest/gtest.h>

#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;
using divrec::testing::write_text;

namespace {

struct Written {
  Manifest m;
  ItemTable t;
  UserSequences u;
};

Written write_and_read(const RawDataset& raw, const std::string& dir) {
  WriteOptions o;
  o.output_dir = dir + "/out";
  o.num_shards = 2;
  write_dataset(raw, o);
  validate_dataset(o.output_dir);
  return {read_manifest(o.output_dir), read_item_table(o.output_dir), read_all_users(o.output_dir)};
}

void amazon_files(const std::string& d, bool with_times) {
  write_text(d + "/X.txt", "1 10 11 12 13\n2 11 12\n3 12 13 10\n");
  write_text(d + "/X_item2attributes.json",
             R"({"10": [1, 2], "11": [2, 3], "12": [3], "13": [1, 2, 3]})");
  if (with_times) {
    write_text(d + "/X.abs_time.inter",
               "user_id\titem_id\ttimestamp\n1\t10\t100\n1\t11\t200\n1\t12\t200\n1\t13\t300\n"
               "2\t11\t50\n2\t12\t60\n3\t12\t10\n3\t13\t30\n3\t10\t20\n");
  }
}

}  // namespace

TEST(AmazonS3Rec, HandMadeWithTimes) {
  auto d = scratch_dir("amz");
  amazon_files(d, true);
  RawDataset raw = convert_amazon_s3rec({d, false});
  EXPECT_EQ(raw.num_interactions(), 9);
  auto w = write_and_read(raw, d);
  EXPECT_EQ(w.m.source, "amazon-s3rec");
  EXPECT_EQ(w.m.category_method, "least-frequent-attribute");
  EXPECT_EQ(w.m.num_users, 2);  // user 2 has 2 items -> dropped
  EXPECT_EQ(w.m.num_interactions, 7);
  EXPECT_EQ(w.m.user_raw_ids, (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(w.t.raw_ids, (std::vector<std::string>{"10", "11", "12", "13"}));
  // Attribute frequencies (items listing it): 1 -> 2, 2 -> 3, 3 -> 3. Least frequent:
  // 10 {1,2} -> 1; 11 {2,3} tie -> 2; 12 {3} -> 3; 13 {1,2,3} -> 1.
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(w.t.category, (std::vector<int32_t>{0, 1, 2, 0}));
  EXPECT_EQ(w.t.attribute_names, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(w.t.attr_offsets, (std::vector<int64_t>{0, 2, 4, 5, 8}));
  EXPECT_EQ(w.t.attr_ids, (std::vector<int32_t>{0, 1, 1, 2, 2, 0, 1, 2}));
  // User 3's times 10 30 20 are sorted: 12@10, 10@20, 13@30.
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{0, 1, 2, 3, 2, 0, 3}));
  EXPECT_EQ(w.u.times, (std::vector<int64_t>{100, 200, 200, 300, 10, 20, 30}));
  EXPECT_EQ(w.t.popularity, (std::vector<int64_t>{1, 1, 1, 0}));  // 10 11 | 12
}

TEST(AmazonS3Rec, PositionsAsTimesWithoutInterFile) {
  auto d = scratch_dir("amz_pos");
  amazon_files(d, false);
  auto w = write_and_read(convert_amazon_s3rec({d + "/X.txt", false}), d);
  EXPECT_EQ(w.u.times, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2}));
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{0, 1, 2, 3, 2, 3, 0}));
}

TEST(AmazonS3Rec, BadInputs) {
  auto d = scratch_dir("amz_bad");
  amazon_files(d, false);
  write_text(d + "/X.txt", "1 10 11 12\n2 11 12 13\n1 10 11 12\n");
  auto msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find(d + "/X.txt:3: user '1' appears twice (first on line 1)"), std::string::npos)
      << msg;

  write_text(d + "/X.txt", "1 10 11 12\n2 11 99 13\n");
  msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find("X.txt:2: item '99' is not in X_item2attributes.json"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("'2 11 99 13'"), std::string::npos) << msg;
  auto w = write_and_read(convert_amazon_s3rec({d, true}), d);
  EXPECT_EQ(w.t.raw_ids.back(), "99");
  EXPECT_EQ(w.t.category_names.back(), "(none)");
  EXPECT_EQ(w.t.category.back(), static_cast<int32_t>(w.t.num_categories - 1));
  EXPECT_EQ(w.t.num_attrs(w.t.num_items - 1), 0);

  write_text(d + "/X.txt", "1 10 11 12\n");
  write_text(d + "/X.abs_time.inter", "1\t10\t5\n1\t12\t6\n1\t11\t7\n");
  msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find("X.abs_time.inter:2: does not match interaction 2"), std::string::npos) << msg;
  write_text(d + "/X.abs_time.inter", "1\t10\t5\n1\t11\tsoon\n1\t12\t7\n");
  msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find("X.abs_time.inter:2: timestamp is not an integer: '1\t11\tsoon'"),
            std::string::npos)
      << msg;

  write_text(d + "/X.txt", "\n");
  msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find("has no interactions"), std::string::npos) << msg;
  write_text(d + "/X_item2attributes.json", "{\"10\": [1, ");
  msg = error_of([&] { convert_amazon_s3rec({d, false}); });
  EXPECT_NE(msg.find("X_item2attributes.json: not valid JSON"), std::string::npos) << msg;
}

TEST(Movielens, Small100k) {
  auto d = scratch_dir("ml100k");
  const std::string flags_a =
      "0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0";  // Animation Children's Comedy
  const std::string flags_b = "0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0";  // Action Adventure Thriller
  const std::string flags_c = "1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0";  // unknown
  write_text(d + "/u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|" + flags_a + "\n" +
                                "2|GoldenEye (1995)|01-Jan-1995||http://x|" + flags_b + "\n" +
                                "3|Caf\xe9 (1995)|01-Jan-1995||http://x|" + flags_c + "\n");
  write_text(d + "/u.data",
             "1\t1\t5\t100\n1\t2\t3\t50\n1\t3\t1\t200\n2\t1\t4\t10\n"
             "2\t2\t2\t20\n2\t3\t5\t30\n2\t1\t4\t40\n");
  auto w = write_and_read(convert_movielens({d, 0}), d);
  EXPECT_EQ(w.m.num_users, 2);
  EXPECT_EQ(w.m.num_items, 3);
  EXPECT_EQ(w.m.num_interactions, 7);
  EXPECT_EQ(w.m.category_method, "first-genre");
  // First genres Animation, Action, unknown; byte order Action < Animation < unknown.
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"Action", "Animation", "unknown"}));
  EXPECT_EQ(w.t.category, (std::vector<int32_t>{1, 0, 2}));
  EXPECT_EQ(w.t.attribute_names,
            (std::vector<std::string>{"Action", "Adventure", "Animation", "Children's", "Comedy",
                                      "Thriller", "unknown"}));
  EXPECT_EQ(w.t.attr_ids, (std::vector<int32_t>{2, 3, 4, 0, 1, 5, 6}));
  // user 1: 2@50 1@100 3@200; user 2: 1@10 2@20 3@30 1@40.
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{1, 0, 2, 0, 1, 2, 0}));
  EXPECT_EQ(w.u.events[0], static_cast<int8_t>(EventType::kRating));
  // --min-rating 3: user 1 keeps 2 ratings (dropped), user 2 keeps 1@10 3@30 1@40.
  auto f = write_and_read(convert_movielens({d, 3}), d + "/f");
  EXPECT_EQ(f.m.num_users, 1);
  EXPECT_EQ(f.t.raw_ids, (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(f.u.items, (std::vector<int32_t>{0, 1, 0}));

  write_text(d + "/u.data", "1\t1\t5\t100\n1\t2\t3\n");
  auto msg = error_of([&] { convert_movielens({d, 0}); });
  EXPECT_NE(msg.find("u.data:2: expected 4 tab-separated fields"), std::string::npos) << msg;
  msg = error_of([&] { convert_movielens({d + "/none", 0}); });
  EXPECT_NE(msg.find("no such directory"), std::string::npos) << msg;
}

TEST(Movielens, Small1m) {
  auto d = scratch_dir("ml1m");
  write_text(d + "/movies.dat",
             "1::Toy Story (1995)::Animation|Children's|Comedy\n"
             "2::Jumanji (1995)::Adventure|Children's|Fantasy\n");
  write_text(d + "/ratings.dat", "1::1::5::978300760\n1::2::3::978302109\n1::1::4::978301968\n");
  auto w = write_and_read(convert_movielens({d, 0}), d);
  EXPECT_EQ(w.m.num_users, 1);
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"Adventure", "Animation"}));
  EXPECT_EQ(w.t.category, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(w.t.num_attributes, 5);  // Adventure Animation Children's Comedy Fantasy
}

TEST(Taobao, SmallWithBehaviorFilter) {
  auto d = scratch_dir("taobao");
  write_text(d + "/UserBehavior.csv",
             "1,100,7,pv,10\n1,101,8,buy,20\n1,100,7,cart,30\n2,102,7,pv,5\n2,100,9,fav,6\n"
             "2,103,8,pv,7\n");
  auto w = write_and_read(convert_taobao({d, {}}), d);
  EXPECT_EQ(w.m.num_users, 2);
  EXPECT_EQ(w.m.num_items, 4);
  // Item 100's later category 9 conflicts with its first (7) and is ignored.
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(w.t.category, (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(w.t.attr_ids, (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(w.u.events, (std::vector<int8_t>{0, 3, 1, 0, 2, 0}));  // pv buy cart | pv fav pv
  EXPECT_EQ(convert_taobao({d + "/UserBehavior.csv", {"pv"}}).num_interactions(), 3);
  EXPECT_EQ(convert_taobao({d, {"buy", "fav"}}).num_interactions(), 2);
  auto msg = error_of([&] { convert_taobao({d, {"click"}}); });
  EXPECT_NE(msg.find("--behaviors: unknown behaviour 'click'"), std::string::npos) << msg;
  write_text(d + "/UserBehavior.csv", "1,100,7,pv,10\n1,101,8,click,20\n");
  msg = error_of([&] { convert_taobao({d, {}}); });
  EXPECT_NE(msg.find("UserBehavior.csv:2: behavior must be pv, cart, fav or buy: "
                     "'1,101,8,click,20'"),
            std::string::npos)
      << msg;
  write_text(d + "/UserBehavior.csv", "1,100,7,pv\n");
  msg = error_of([&] { convert_taobao({d, {}}); });
  EXPECT_NE(msg.find("UserBehavior.csv:1: expected 5 fields"), std::string::npos) << msg;
}

TEST(Csv, HeaderNamesQuotesAndAttributes) {
  auto d = scratch_dir("csv");
  write_text(d + "/in.csv",
             "uid,iid,ts,cat,tags\nu1,\"item, one\",3,c1,a|b\nu1,i2,1,c2,b\nu1,i3,2,,\n"
             "u2,i2,5,c2,b\nu2,i3,4,,c\nu2,\"item, one\",6,c1,a|b\n");
  CsvOptions o;
  o.input = d + "/in.csv";
  o.header = true;
  o.user_col = "uid";
  o.item_col = "iid";
  o.time_col = "ts";
  o.category_col = "cat";
  o.attributes_col = "tags";
  auto w = write_and_read(convert_csv(o), d);
  EXPECT_EQ(w.m.category_method, "column:cat");
  EXPECT_EQ(w.t.raw_ids, (std::vector<std::string>{"i2", "i3", "item, one"}));
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{0, 1, 2, 1, 0, 2}));
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"c1", "c2", "(none)"}));
  EXPECT_EQ(w.t.category, (std::vector<int32_t>{1, 2, 0}));
  // Side info from each item's first line: i3's first line has no tags ("c" later is ignored).
  EXPECT_EQ(w.t.attribute_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(w.t.attr_offsets, (std::vector<int64_t>{0, 1, 1, 3}));

  o.user_col = "nope";
  auto msg = error_of([&] { convert_csv(o); });
  EXPECT_NE(msg.find("--user-col: no column 'nope' in the header"), std::string::npos) << msg;
}

TEST(Csv, IndicesTabsFileOrderAndErrors) {
  auto d = scratch_dir("csv2");
  write_text(d + "/in.tsv", "5\t9\n5\t8\n5\t9\n");
  CsvOptions o;
  o.input = d + "/in.tsv";
  o.delimiter = '\t';
  o.user_col = "0";
  o.item_col = "1";
  auto w = write_and_read(convert_csv(o), d);
  EXPECT_EQ(w.m.category_method, "none");
  EXPECT_EQ(w.u.items, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(w.u.times, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(w.t.category_names, (std::vector<std::string>{"(none)"}));

  write_text(d + "/in.tsv", "5\t9\n5\n");
  auto msg = error_of([&] { convert_csv(o); });
  EXPECT_NE(msg.find("in.tsv:2: expected at least 2 fields"), std::string::npos) << msg;
  write_text(d + "/in.tsv", "");
  msg = error_of([&] { convert_csv(o); });
  EXPECT_NE(msg.find("has no data lines"), std::string::npos) << msg;
  o.input = d + "/missing.csv";
  msg = error_of([&] { convert_csv(o); });
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

// Found by fuzz/fuzz_csv: a fractional time beyond int64 (or NaN) was cast to int64_t
// (undefined behaviour; UBSan: "4.44444e+55 is outside the range of representable values").
TEST(Csv, TimeOutOfRangeIsAnError) {
  auto d = scratch_dir("csv_time");
  CsvOptions o;
  o.input = d + "/in.csv";
  o.user_col = "0";
  o.item_col = "1";
  o.time_col = "2";
  for (const char* t : {"4.4e55", "-1e19", "nan", "inf"}) {
    write_text(o.input, std::string("u,i,1.5\nu,j,") + t + "\n");
    auto msg = error_of([&] { convert_csv(o); });
    EXPECT_NE(msg.find("in.csv:2: time out of range"), std::string::npos) << t << ": " << msg;
  }
  write_text(o.input, "u,i,1.5\nu,j,-2.75e3\nu,k,7\n");  // in range: truncated toward zero
  auto w = write_and_read(convert_csv(o), d);
  EXPECT_EQ(w.u.times, (std::vector<int64_t>{-2750, 1, 7}));
}
