// Content vectors stored as fp16 / bf16 (data_shards/content_dtype.h): rounding to nearest even
// against hand-computed values, the fp16 range error, items.h5 round trips that keep the dtype
// and take about half the bytes, reads that keep the 16-bit patterns (ContentRead::kStored),
// h5py (an independent reader) seeing the same values, and `shard add-content --content-dtype`
// committing a valid dataset version.
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/run_command.h"
#include "core/fs.h"
#include "data_shards/content_dtype.h"
#include "data_shards/content_import.h"
#include "data_shards/convert/converters.h"
#include "data_shards/files.h"
#include "data_shards/reader.h"
#include "data_shards/validate.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::run_command;
using divrec::testing::scratch_dir;
using divrec::testing::write_text;

namespace {

float rounded(ContentDtype dtype, float v) {
  round_to_content_dtype(dtype, &v, 1, "test");
  return v;
}

TEST(ContentDtype, RoundsToNearestEven) {
  // 1/3 = 0x3EAAAAAB: bf16 keeps 0x3EAB (the dropped half 0xAAAB > 0x8000 rounds up); fp16's
  // nearest is 0x3555 = 1365/4096.
  EXPECT_EQ(rounded(ContentDtype::kBFloat16, 1.0f / 3), 0.333984375f);
  EXPECT_EQ(rounded(ContentDtype::kFloat16, 1.0f / 3), 1365.0f / 4096);
  // Exact ties go to the even mantissa: 1 + 2^-11 -> 1 (fp16), 1 + 3 * 2^-8 -> 1 + 2^-6 (bf16).
  EXPECT_EQ(rounded(ContentDtype::kFloat16, 1.0f + std::ldexp(1.0f, -11)), 1.0f);
  EXPECT_EQ(rounded(ContentDtype::kBFloat16, 1.0f + 3 * std::ldexp(1.0f, -8)),
            1.0f + std::ldexp(1.0f, -6));
  // bf16 has fp32's range: 70000 -> 137 * 512; fp16 cannot hold it.
  EXPECT_EQ(rounded(ContentDtype::kBFloat16, 70000.0f), 70144.0f);
  EXPECT_EQ(rounded(ContentDtype::kFloat32, 1.0f / 3), 1.0f / 3);
  float big[] = {1.0f, -70000.0f};
  const auto e = error_of([&] { round_to_content_dtype(ContentDtype::kFloat16, big, 2, "vecs"); });
  EXPECT_NE(e.find("vecs: value -70000 at flat index 1 is out of fp16 range"), std::string::npos)
      << e;
  EXPECT_NE(e.find("--content-dtype bf16"), std::string::npos) << e;

  EXPECT_EQ(parse_content_dtype("bf16", "--x"), ContentDtype::kBFloat16);
  EXPECT_EQ(parse_content_dtype("float16", "--x"), ContentDtype::kFloat16);
  EXPECT_NE(error_of([] {
              parse_content_dtype("int8", "--content-dtype");
            }).find("--content-dtype: unknown content dtype 'int8'; valid: fp32, fp16, bf16"),
            std::string::npos);
}

// The 16-bit patterns themselves (appending rows to a 16-bit table, checksumming one): c10's
// rounding, the same range error, and widening back exactly.
TEST(ContentDtype, PatternsAppendAndWidenAsC10Does) {
  const float v[] = {1.0f / 3, -2.5f, 1e-8f, 70000.0f};
  std::vector<uint16_t> bits = {0x1234};  // appended after what is there
  append_content_bits(ContentDtype::kBFloat16, v, 4, &bits, "row");
  ASSERT_EQ(bits.size(), 5u);
  EXPECT_EQ(bits[0], 0x1234);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(bits[k + 1], c10::BFloat16(v[k]).x) << k;
  EXPECT_EQ(bits[1], 0x3EAB);  // as RoundsToNearestEven: 0x3EAAAAAB rounds up
  std::vector<uint16_t> half;
  append_content_bits(ContentDtype::kFloat16, v, 3, &half, "row");
  for (int k = 0; k < 3; ++k) EXPECT_EQ(half[k], c10::Half(v[k]).x) << k;
  EXPECT_EQ(half[0], 0x3555);
  const auto e =
      error_of([&] { append_content_bits(ContentDtype::kFloat16, v, 4, &half, "item 'x'"); });
  EXPECT_NE(e.find("item 'x': value 70000 at flat index 3 is out of fp16 range"), std::string::npos)
      << e;
  EXPECT_NE(error_of([&] {
              append_content_bits(ContentDtype::kFloat32, v, 1, &half, "r");
            }).find("need dtype fp16 or bf16"),
            std::string::npos);

  float wide[4];
  widen_content_bits(ContentDtype::kBFloat16, bits.data() + 1, 4, wide);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(wide[k], rounded(ContentDtype::kBFloat16, v[k])) << k;
  widen_content_bits(ContentDtype::kFloat16, half.data(), 3, wide);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(wide[k], rounded(ContentDtype::kFloat16, v[k])) << k;
  EXPECT_FALSE(
      error_of([&] { widen_content_bits(ContentDtype::kFloat32, half.data(), 1, wide); }).empty());
}

// A synthetic catalog with 64-d content (the items 400 users touched).
ItemTable catalog(const std::string& dir) {
  SyntheticOptions so;
  so.users = 400;
  so.items = 2000;
  so.categories = 4;
  so.content_dim = 64;
  so.seed = 9;
  WriteOptions o;
  o.output_dir = dir + "/ds";
  o.command = "test";
  write_dataset(convert_synthetic(so), o);
  return read_item_table(o.output_dir);
}

TEST(ContentDtype, ItemsFileKeepsTheDtypeInHalfTheBytes) {
  const auto dir = scratch_dir("content_dtype_file");
  const ItemTable t = catalog(dir);
  ASSERT_EQ(t.content_dtype, ContentDtype::kFloat32);
  write_items_file(dir + "/f32.h5", t);
  // fp32 content has no 16-bit form: kStored reads it as kWidened does.
  const ItemTable f32 = read_items_file(dir + "/f32.h5", ContentRead::kStored);
  EXPECT_EQ(f32.content, t.content);
  EXPECT_TRUE(f32.content_bits.empty());
  const auto f32_bytes = std::filesystem::file_size(dir + "/f32.h5");
  for (auto dtype : {ContentDtype::kFloat16, ContentDtype::kBFloat16}) {
    ItemTable h = t;
    h.content_dtype = dtype;
    round_to_content_dtype(dtype, h.content.data(), h.content.size(), "test");
    const std::string path = dir + "/" + content_dtype_name(dtype) + ".h5";
    write_items_file(path, h);
    const ItemTable back = read_items_file(path);
    EXPECT_EQ(back.content_dtype, dtype);
    EXPECT_EQ(back.content, h.content);  // bit for bit: the values were already rounded
    EXPECT_NE(back.content, t.content);
    // ContentRead::kStored: the file's 16-bit patterns, no fp32 copy; they widen (c10, exact) to
    // the same values and are written back as they are.
    ItemTable stored = read_items_file(path, ContentRead::kStored);
    EXPECT_TRUE(stored.content.empty());
    ASSERT_EQ(stored.content_bits.size(), h.content.size());
    for (size_t k = 0; k < h.content.size(); k += 31) {
      const uint16_t b = stored.content_bits[k];
      const float wide = dtype == ContentDtype::kFloat16
                             ? static_cast<float>(c10::Half(b, c10::Half::from_bits()))
                             : static_cast<float>(c10::BFloat16(b, c10::BFloat16::from_bits()));
      ASSERT_EQ(wide, h.content[k]) << "value " << k;
    }
    write_items_file(path + ".again", stored);
    EXPECT_EQ(read_items_file(path + ".again").content, h.content);
    stored.content_bits.pop_back();
    EXPECT_NE(error_of([&] { write_items_file(path + ".short", stored); })
                  .find(fmt::format("has {} values for a {}-value array", h.content.size() - 1,
                                    h.content.size())),
              std::string::npos);
    // I x 64 x 2 bytes less (compressed): well under 3/4 of the fp32 file.
    EXPECT_LT(std::filesystem::file_size(path), f32_bytes * 3 / 4) << content_dtype_name(dtype);

    // h5py reads fp16 as numpy float16 and converts bf16 (a user-defined HDF5 float) exactly.
    const char* py = "/usr/bin/python3";
    if (!std::filesystem::exists(py) ||
        run_command(std::string(py) + " -c 'import h5py' 2>/dev/null").first != 0) {
      continue;
    }
    write_text(dir + "/expect.txt", [&] {
      std::string s;
      for (size_t k = 0; k < h.content.size(); k += 97)
        s += fmt::format("{} {:.9g}\n", k, h.content[k]);
      return s;
    }());
    const std::string cmd =
        std::string(py) +
        " -c 'import sys, h5py, numpy as np\n"
        "f = h5py.File(sys.argv[1], \"r\"); d = f[\"content\"]\n"
        "print(d.dtype, d.shape)\n"
        "x = d.astype(\"f4\")[:].ravel()\n"
        "for line in open(sys.argv[2]):\n"
        "  k, v = line.split(); assert x[int(k)] == np.float32(v), (k, x[int(k)], v)\n"
        "print(\"same\")' " +
        path + " " + dir + "/expect.txt";
    const auto [rc, out] = run_command(cmd + " 2>&1");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("same"), std::string::npos) << out;
    if (dtype == ContentDtype::kFloat16) {
      EXPECT_NE(out.find(fmt::format("float16 ({}, 64)", t.num_items)), std::string::npos) << out;
    }
  }
}

TEST(ContentDtype, AddContentStoresTheChosenPrecision) {
  const auto dir = scratch_dir("content_dtype_import");
  const ItemTable t = catalog(dir);
  std::string csv;
  for (int64_t i = 0; i < t.num_items; ++i) {
    csv += t.raw_ids[static_cast<size_t>(i)];
    for (int j = 0; j < 8; ++j) csv += fmt::format(",{}", 0.1 * (i % 17) - 0.37 * j);
    csv += "\n";
  }
  write_text(dir + "/v.csv", csv);
  ContentImportOptions o;
  o.dir = dir + "/ds";
  o.source.vectors = dir + "/v.csv";
  o.name = "test-model";
  o.content_dtype = ContentDtype::kBFloat16;
  const auto s = import_content(o);
  EXPECT_EQ(s.matched, t.num_items);
  validate_dataset(o.dir);
  const ItemTable back = read_item_table(o.dir);
  EXPECT_EQ(back.content_dtype, ContentDtype::kBFloat16);
  ASSERT_EQ(back.content_dim, 8);
  for (int64_t i = 0; i < t.num_items; i += 13) {
    for (int j = 0; j < 8; ++j) {
      const float want = static_cast<float>(0.1 * (i % 17) - 0.37 * j);
      EXPECT_EQ(back.content[static_cast<size_t>(i * 8 + j)],
                rounded(ContentDtype::kBFloat16, want));
    }
  }
  // fp16 of vectors beyond its range: the error names the option and nothing is committed.
  write_text(dir + "/big.csv", t.raw_ids[0] + ",1e6,0,0,0,0,0,0,0\n");
  o.source.vectors = dir + "/big.csv";
  o.content_dtype = ContentDtype::kFloat16;
  EXPECT_NE(error_of([&] { import_content(o); }).find("--content-dtype fp16"), std::string::npos);
  EXPECT_EQ(read_manifest(o.dir).dataset_version, 1);
}

}  // namespace
