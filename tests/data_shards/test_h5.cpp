// HDF5 wrappers: typed arrays and strings round-trip, attributes, clear errors for missing
// objects, truncated / foreign files and wrong kinds or versions, deterministic bytes.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "data_shards/dataset.h"
#include "data_shards/h5.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;

TEST(H5, ArraysStringsAndAttributesRoundTrip) {
  auto path = scratch_dir("h5rt") + "/a.h5";
  std::vector<int8_t> i8{-3, 0, 127};
  std::vector<int32_t> i32{1, -2, 2147483647};
  std::vector<int64_t> i64{-9000000000LL, 0, 5};
  std::vector<uint32_t> u32{0u, 4294967295u};
  std::vector<float> f2{1.5f, -2.f, 3.f, 4.25f, 5.f, 6.f};  // [3, 2]
  std::vector<std::string> strs{"a", "", "Children's", "caf\xc3\xa9", std::string(300, 'x')};
  {
    auto f = h5::File::create(path);
    f.stamp("test");
    h5::write_vector(f, "i8", i8);
    h5::write_vector(f, "i32", i32);
    auto g = f.create_group("g");
    h5::write_vector(g, "i64", i64);
    h5::write_vector(g, "u32", u32);
    h5::write_vector(g, "empty", std::vector<int64_t>{});
    f.write_array("f2", f2.data(), {3, 2});
    f.write_strings("s", strs);
    f.write_strings("s_empty", {});
    f.write_short_strings("short", {"B0001", "", "caf\xc3\xa9"});  // fixed-length
    f.write_short_strings("long", strs);                           // 300 bytes: variable-length
    f.write_short_strings("short_empty", {});
    f.write_array("f2c", f2.data(), {3, 2}, h5::Storage::kContiguous);
    f.set_attr_int("n", -42);
    f.set_attr_uint32("crc", 4000000000u);
    f.set_attr_string("name", "h\xc3\xa9llo");
    f.open_dataset("f2").set_attr_string("model", "m1");
    f.close();
  }
  auto f = h5::File::open_divrec(path, "test");
  EXPECT_EQ(h5::read_vector<int8_t>(f, "i8"), i8);
  EXPECT_EQ(h5::read_vector<int32_t>(f, "i32"), i32);
  auto g = f.open_group("g");
  EXPECT_EQ(h5::read_vector<int64_t>(g, "i64"), i64);
  EXPECT_EQ(h5::read_vector<uint32_t>(g, "u32"), u32);
  EXPECT_TRUE(h5::read_vector<int64_t>(g, "empty").empty());
  EXPECT_EQ(g.read_range<int64_t>("i64", 1, 3), (std::vector<int64_t>{0, 5}));
  std::vector<hsize_t> dims;
  EXPECT_EQ(f.read_array<float>("f2", &dims), f2);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 2}));
  // Widening conversion on read (int32 stored, int64 requested).
  EXPECT_EQ(h5::read_vector<int64_t>(f, "i32"), (std::vector<int64_t>{1, -2, 2147483647}));
  EXPECT_EQ(f.read_strings("s"), strs);
  EXPECT_TRUE(f.read_strings("s_empty").empty());
  EXPECT_EQ(f.read_strings("short"), (std::vector<std::string>{"B0001", "", "caf\xc3\xa9"}));
  EXPECT_EQ(f.read_strings("long"), strs);
  EXPECT_TRUE(f.read_strings("short_empty").empty());
  auto is_vlen = [&](const char* name) {
    hid_t t = H5Dget_type(f.open_dataset(name).id());
    const bool v = H5Tis_variable_str(t) > 0;
    H5Tclose(t);
    return v;
  };
  EXPECT_FALSE(is_vlen("short"));
  EXPECT_TRUE(is_vlen("long"));
  EXPECT_EQ(f.read_array<float>("f2c", &dims), f2);
  EXPECT_EQ(H5D_CONTIGUOUS, [&] {
    hid_t p = H5Dget_create_plist(f.open_dataset("f2c").id());
    const H5D_layout_t layout = H5Pget_layout(p);
    H5Pclose(p);
    return layout;
  }());
  EXPECT_EQ(f.attr_int("n"), -42);
  EXPECT_EQ(f.attr_int("crc"), 4000000000LL);
  EXPECT_EQ(f.attr_string("name"), "h\xc3\xa9llo");
  EXPECT_EQ(f.open_dataset("f2").attr_string("model"), "m1");
  EXPECT_EQ(f.attr_int("divrec_format_version"), kFormatVersion);
  EXPECT_TRUE(f.has("g"));
  EXPECT_FALSE(f.has("nope"));
}

TEST(H5, MissingObjectsNameFileAndPath) {
  auto path = scratch_dir("h5miss") + "/a.h5";
  {
    auto f = h5::File::create(path);
    f.stamp("test");
    h5::write_vector(f, "x", std::vector<int32_t>{1});
    f.close();
  }
  auto f = h5::File::open(path);
  auto msg = error_of([&] { h5::read_vector<int32_t>(f, "y"); });
  EXPECT_NE(msg.find("missing dataset " + path + ":/y"), std::string::npos) << msg;
  msg = error_of([&] { f.attr_int("nope"); });
  EXPECT_NE(msg.find("missing attribute 'nope'"), std::string::npos) << msg;
  msg = error_of([&] { f.read_strings("x"); });
  EXPECT_NE(msg.find("should hold strings"), std::string::npos) << msg;
}

TEST(H5, TruncatedForeignWrongKindAndVersionAreClearErrors) {
  auto d = scratch_dir("h5bad");
  {
    auto f = h5::File::create(d + "/good.h5");
    f.stamp("shard");
    std::vector<int64_t> big(100000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<int64_t>(i * i);
    h5::write_vector(f, "big", big);
    f.close();
  }
  auto bytes = divrec::core::read_file(d + "/good.h5");
  divrec::testing::write_text(d + "/trunc.h5", bytes.substr(0, bytes.size() / 2));
  auto msg = error_of([&] { h5::File::open_divrec(d + "/trunc.h5", "shard"); });
  EXPECT_NE(msg.find(d + "/trunc.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a readable HDF5 file"), std::string::npos) << msg;

  divrec::testing::write_text(d + "/text.h5", "user,item\n1,2\n");
  msg = error_of([&] { h5::File::open_divrec(d + "/text.h5", "items"); });
  EXPECT_NE(msg.find("not a readable HDF5 file"), std::string::npos) << msg;

  msg = error_of([&] { h5::File::open_divrec(d + "/missing.h5", "items"); });
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;

  msg = error_of([&] { h5::File::open_divrec(d + "/good.h5", "items"); });
  EXPECT_NE(msg.find("is a divrec 'shard' file; expected a divrec 'items' file"), std::string::npos)
      << msg;

  {
    auto f = h5::File::create(d + "/v2.h5");
    f.stamp("items");
    f.set_attr_int("divrec_format_version", kFormatVersion + 1);
    f.close();
  }
  msg = error_of([&] { h5::File::open_divrec(d + "/v2.h5", "items"); });
  EXPECT_NE(msg.find("has divrec format version 2; this build reads version 1"), std::string::npos)
      << msg;

  {
    auto f = h5::File::create(d + "/plain.h5");  // an HDF5 file, but not ours
    h5::write_vector(f, "x", std::vector<int32_t>{1});
    f.close();
  }
  msg = error_of([&] { h5::File::open_divrec(d + "/plain.h5", "manifest"); });
  EXPECT_NE(msg.find("is an HDF5 file but not a divrec file"), std::string::npos) << msg;
}

TEST(H5, SameContentGivesSameBytes) {
  auto d = scratch_dir("h5det");
  auto write = [&](const std::string& path) {
    auto f = h5::File::create(path);
    f.stamp("test");
    auto g = f.create_group("grp");
    h5::write_vector(g, "v", std::vector<int32_t>{3, 1, 4, 1, 5, 9, 2, 6});
    g.write_strings("names", {"x", "yy", "zzz"});
    f.set_attr_string("s", "same");
    f.close();
  };
  write(d + "/a.h5");
  // Object headers would carry creation times; a second later they would differ.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write(d + "/b.h5");
  EXPECT_EQ(divrec::core::read_file(d + "/a.h5"), divrec::core::read_file(d + "/b.h5"));
}
