// `shard add-content` (data_shards/content_import.h): round trips for .npy (+ ids, f2/f4/f8),
// HDF5 (string and integer ids) and CSV/TSV; the fallback flag; a new dataset version with the
// old one intact and still valid; every input error (naming file and row) leaving the dataset
// byte for byte as it was; PCA / whitening against tools/reference/content_pca.py (numpy).
#include <c10/util/Half.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/fs.h"
#include "data_shards/content_import.h"
#include "data_shards/content_pca.h"
#include "data_shards/convert/converters.h"
#include "data_shards/dataset_version.h"
#include "data_shards/files.h"
#include "data_shards/h5.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;
using divrec::testing::write_text;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kItems = 40;

// A synthetic dataset (items "0".."39", content_dim 4 from the converter) under `name`.
std::string make_dataset(const std::string& name) {
  SyntheticOptions so;
  so.users = 120;
  so.items = kItems;
  so.categories = 3;
  so.content_dim = 4;
  so.seed = 5;
  so.cover_items = true;
  WriteOptions o;
  o.output_dir = scratch_dir(name) + "/ds";
  o.command = "test";
  write_dataset(convert_synthetic(so), o);
  return o.output_dir;
}

// The vector of raw item `id` in the test files: a formula, so every format holds the same values.
float value(int64_t id, int64_t j) { return static_cast<float>(0.25 * id - 0.5 * j + 0.125); }

// Items 0..n-1 except 7 (which gets the fallback), ids in reverse file order.
std::vector<int64_t> file_ids(int64_t n = kItems) {
  std::vector<int64_t> ids;
  for (int64_t i = n - 1; i >= 0; --i) {
    if (i != 7) ids.push_back(i);
  }
  return ids;
}

void write_npy(const std::string& path, const std::string& descr, size_t elem,
               const std::vector<int64_t>& ids, int64_t dim, const std::string& order = "False") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': (" +
                       std::to_string(ids.size()) + ", " + std::to_string(dim) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  for (int64_t id : ids) {
    for (int64_t j = 0; j < dim; ++j) {
      const float v = value(id, j);
      char buf[8];
      if (elem == 4) std::memcpy(buf, &v, 4);
      if (elem == 8) {
        const double d = v;
        std::memcpy(buf, &d, 8);
      }
      if (elem == 2) {
        const uint16_t h = c10::Half(v).x;
        std::memcpy(buf, &h, 2);
      }
      bytes.append(buf, elem);
    }
  }
  write_text(path, bytes);
}

std::string id_lines(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += std::to_string(id) + "\n";
  return s;
}

std::string text_rows(const std::vector<int64_t>& ids, int64_t dim, char delim) {
  std::string s;
  for (int64_t id : ids) {
    s += std::to_string(id);
    for (int64_t j = 0; j < dim; ++j) s += delim + fmt::format("{}", value(id, j));
    s += "\n";
  }
  return s;
}

ContentImportOptions options(const std::string& dir, const std::string& vectors) {
  ContentImportOptions o;
  o.dir = dir;
  o.source.vectors = vectors;
  o.name = "test-model";
  o.command = "divrec shard add-content (test)";
  return o;
}

// Checks the imported table: the file's values for every item but 7, the fallback for 7.
void expect_imported(const std::string& dir, int64_t dim) {
  ItemTable t = read_item_table(dir);
  ASSERT_EQ(t.content_dim, dim);
  EXPECT_EQ(t.content_model, "test-model");
  ASSERT_EQ(t.has_content.size(), static_cast<size_t>(kItems));
  for (int64_t i = 0; i < kItems; ++i) {
    const int64_t raw = std::stoll(t.raw_ids[static_cast<size_t>(i)]);
    EXPECT_EQ(t.has_content[static_cast<size_t>(i)], raw == 7 ? 0 : 1) << "item " << raw;
    for (int64_t j = 0; j < dim; ++j) {
      EXPECT_FLOAT_EQ(t.content[static_cast<size_t>(i * dim + j)], raw == 7 ? 0.0f : value(raw, j))
          << "item " << raw << " column " << j;
    }
  }
  validate_dataset(dir);
}

// Bytes of every file of the dataset (to check that a failed import changed nothing).
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    files[e.path().filename().string()] = divrec::core::read_file(e.path().string());
  }
  return files;
}

TEST(ContentImport, NpyRoundTripMakesANewVersionAndKeepsTheOldOne) {
  const auto dir = make_dataset("npy");
  const auto before = snapshot(dir);
  const ItemTable old_items = read_item_table(dir);
  const auto base = fs::path(dir).parent_path().string();
  write_npy(base + "/v.npy", "<f4", 4, file_ids(), 6);
  write_text(base + "/ids.txt", id_lines(file_ids()));
  auto o = options(dir, base + "/v.npy");
  o.source.ids = base + "/ids.txt";
  auto s = import_content(o);
  EXPECT_EQ(s.matched, kItems - 1);
  EXPECT_EQ(s.missing, 1);
  EXPECT_EQ(s.manifest.dataset_version, 1);
  expect_imported(dir, 6);

  Manifest m = read_manifest(dir);
  EXPECT_EQ(m.dataset_version, 1);
  EXPECT_EQ(m.items_file, "items-v0001.h5");
  EXPECT_EQ(m.previous_manifest, "manifest-v0000.h5");
  EXPECT_EQ(m.version_command, o.command);
  EXPECT_EQ(m.content_dim, 6);
  // The old version: its manifest saved byte for byte, its item table and the shards untouched.
  const auto after = snapshot(dir);
  EXPECT_EQ(after.at("manifest-v0000.h5"), before.at("manifest.h5"));
  EXPECT_EQ(after.at("items.h5"), before.at("items.h5"));
  EXPECT_EQ(after.at("shard-00000.h5"), before.at("shard-00000.h5"));
  // ... and it is still a complete, valid dataset when its manifest is put back.
  const auto old_dir = base + "/old";
  fs::create_directories(old_dir);
  for (const auto& [name, bytes] : after) write_text(old_dir + "/" + name, bytes);
  fs::copy_file(old_dir + "/manifest-v0000.h5", old_dir + "/manifest.h5",
                fs::copy_options::overwrite_existing);
  validate_dataset(old_dir);
  EXPECT_EQ(read_item_table(old_dir).content, old_items.content);

  // A second import chains on: version 2, previous = version 1's manifest.
  write_text(base + "/v.csv", text_rows(file_ids(), 3, ','));
  auto s2 = import_content(options(dir, base + "/v.csv"));
  EXPECT_EQ(s2.manifest.dataset_version, 2);
  EXPECT_EQ(s2.manifest.previous_manifest, "manifest-v0001.h5");
  EXPECT_EQ(snapshot(dir).at("manifest-v0001.h5"), after.at("manifest.h5"));
  expect_imported(dir, 3);
}

TEST(ContentImport, NpyFloat64AndFloat16) {
  const auto dir = make_dataset("npy64");
  const auto base = fs::path(dir).parent_path().string();
  write_text(base + "/ids.txt", id_lines(file_ids()));
  write_npy(base + "/v8.npy", "<f8", 8, file_ids(), 5);
  auto o = options(dir, base + "/v8.npy");
  o.source.ids = base + "/ids.txt";
  import_content(o);
  expect_imported(dir, 5);
  // value() is a multiple of 1/8 below 10: exact in float16.
  write_npy(base + "/v2.npy", "<f2", 2, file_ids(), 5);
  o.source.vectors = base + "/v2.npy";
  import_content(o);
  expect_imported(dir, 5);
}

TEST(ContentImport, Hdf5WithStringAndIntegerIds) {
  const auto dir = make_dataset("h5");
  const auto base = fs::path(dir).parent_path().string();
  const auto ids = file_ids();
  std::vector<std::string> names;
  std::vector<float> values;
  for (int64_t id : ids) {
    names.push_back(std::to_string(id));
    for (int64_t j = 0; j < 8; ++j) values.push_back(value(id, j));
  }
  {
    auto f = h5::File::create(base + "/v.h5");
    f.write_strings("ids", names);
    f.write_array("vectors", values.data(), {ids.size(), 8});
    h5::write_vector(f, "item_numbers", ids);
    f.write_array("emb", values.data(), {ids.size(), 8});
    f.close();
  }
  import_content(options(dir, base + "/v.h5"));
  expect_imported(dir, 8);
  auto o = options(dir, base + "/v.h5");
  o.source.h5_ids = "item_numbers";
  o.source.h5_vectors = "emb";
  import_content(o);
  expect_imported(dir, 8);
  o.source.h5_ids = "nope";
  EXPECT_NE(error_of([&] { import_content(o); }).find("v.h5:/nope: no such dataset (item ids)"),
            std::string::npos);
}

TEST(ContentImport, CsvAndTsvWithHeader) {
  const auto dir = make_dataset("csv");
  const auto base = fs::path(dir).parent_path().string();
  write_text(base + "/v.tsv", "item\ta\tb\tc\n" + text_rows(file_ids(), 3, '\t'));
  auto o = options(dir, base + "/v.tsv");
  o.source.header = true;
  import_content(o);
  expect_imported(dir, 3);
  write_text(base + "/v.csv", text_rows(file_ids(), 2, ','));
  import_content(options(dir, base + "/v.csv"));
  expect_imported(dir, 2);
  EXPECT_EQ(read_manifest(dir).dataset_version, 2);
}

// Every bad input: a clear message naming file and row, and the dataset left exactly as it was.
TEST(ContentImport, ErrorsNameFileAndRowAndChangeNothing) {
  const auto dir = make_dataset("errors");
  const auto base = fs::path(dir).parent_path().string();
  const auto before = snapshot(dir);
  auto fails_with = [&](const ContentImportOptions& o, const std::string& expected) {
    const auto msg = error_of([&] { import_content(o); });
    EXPECT_NE(msg.find(expected), std::string::npos) << "got: " << msg;
    EXPECT_EQ(snapshot(dir), before) << "the dataset changed after: " << msg;
  };
  auto csv = [&](const std::string& name, const std::string& text) {
    write_text(base + "/" + name, text);
    return options(dir, base + "/" + name);
  };
  fails_with(csv("dim.csv", "3,1,2,3\n4,1,2\n"),
             "dim.csv:2: item '4' has 2 values, expected 3 (as on the first row)");
  fails_with(csv("unknown.csv", "3,1,2\nB00X,1,2\n"),
             "unknown.csv:2: item id 'B00X' is not in the dataset");
  fails_with(csv("dup.csv", "3,1,2\n5,1,2\n3,0,0\n"),
             "dup.csv:3: item id '3' appears twice (first at " + base + "/dup.csv:1)");
  fails_with(csv("nan.csv", "3,1,2\n5,nan,2\n"),
             "nan.csv:2: item '5' has a non-finite value (nan) in column 0");
  fails_with(csv("inf.csv", "3,1,2\n5,1,-inf\n"),
             "inf.csv:2: item '5' has a non-finite value (-inf) in column 1");
  fails_with(csv("big.csv", "3,1,2\n5,1,1e39\n"), "big.csv:2: item '5' has a non-finite value");
  fails_with(csv("text.csv", "3,1,2\n5,1,x2\n"), "text.csv:2: value 1 of item '5' is not a number");
  fails_with(csv("short.csv", "3,1,2\n5\n"), "short.csv:2: expected: raw item id, then");
  fails_with(csv("empty.csv", "\n"), "holds no vectors");
  auto none = csv("none.csv", "1000,1\n1001,2\n");
  none.skip_unknown_ids = true;
  fails_with(none, "no vector of");
  auto o = csv("ok.csv", text_rows(file_ids(), 3, ','));
  o.name = "";
  fails_with(o, "the content model needs a name");
  o = csv("ok.csv", text_rows(file_ids(), 3, ','));
  o.whiten = true;
  fails_with(o, "--whiten needs --pca");
  o.whiten = false;
  o.pca_dim = 4;
  fails_with(o, "--pca 4 with 39 vectors of dimension 3");
  o.pca_dim = 0;
  o.require_all = true;
  fails_with(o, "item '7' (dense id 7) has no vector in");
  o.require_all = false;
  o.source.ids = base + "/ids.txt";
  fails_with(o, "--ids given for a csv file");

  // .npy: ids missing / miscounted, wrong dtype, Fortran order, truncated, not npy at all.
  write_npy(base + "/v.npy", "<f4", 4, file_ids(), 3);
  auto npy = options(dir, base + "/v.npy");
  fails_with(npy, "pass --ids FILE");
  write_text(base + "/ids.txt", "1\n2\n");
  npy.source.ids = base + "/ids.txt";
  fails_with(npy, "ids.txt' has 2 ids but '" + base + "/v.npy' has 39 rows");
  write_text(base + "/ids.txt", "1\n\n2\n");
  fails_with(npy, "ids.txt:2: empty item id");
  write_text(base + "/ids.txt", id_lines(file_ids()));
  write_npy(base + "/v.npy", "<i8", 8, file_ids(), 3);
  fails_with(npy, "has dtype '<i8'; expected little-endian float16/32/64");
  write_npy(base + "/v.npy", "<f4", 4, file_ids(), 3, "True");
  fails_with(npy, "is in Fortran order");
  write_npy(base + "/v.npy", "<f4", 4, file_ids(), 3);
  auto bytes = divrec::core::read_file(base + "/v.npy");
  write_text(base + "/v.npy", bytes.substr(0, bytes.size() - 5));
  fails_with(npy, "v.npy' is truncated");
  write_text(base + "/v.npy", "not numpy at all");
  fails_with(npy, "v.npy' is not an .npy file (bad magic)");
  fails_with(options(dir, base + "/v.bin"), "cannot tell the format of");
}

TEST(ContentImport, SkipUnknownIds) {
  const auto dir = make_dataset("skip");
  const auto base = fs::path(dir).parent_path().string();
  write_text(base + "/v.csv", text_rows(file_ids(), 3, ',') + "B00X,1,2,3\n");
  auto o = options(dir, base + "/v.csv");
  o.skip_unknown_ids = true;
  auto s = import_content(o);
  EXPECT_EQ(s.skipped_unknown, 1);
  EXPECT_EQ(s.rows, kItems);
  expect_imported(dir, 3);
}

// Golden numbers: tools/reference/content_pca.py (numpy eigh of the covariance, float64).
std::vector<float> pca_input() {
  std::vector<float> x;
  for (int n = 0; n < 6; ++n) {
    for (int d = 0; d < 4; ++d) {
      x.push_back(
          static_cast<float>(std::sin(0.7 * n + 1.3 * d + 0.1) + 0.25 * n * std::cos(0.5 * d)));
    }
  }
  return x;
}

TEST(ContentPca, MatchesTheNumpyReference) {
  const std::vector<double> var = {0.880720462, 0.507474898};
  const std::vector<double> proj = {-0.704822084, -1.06371669, -0.967452246, -0.0751818489,
                                    -0.641463454, 0.63956328,  0.0993513244, 0.771861114,
                                    0.886099873,  0.286988208, 1.32828659,   -0.559514066};
  const std::vector<double> white = {-0.75103549,  -1.49320244, -1.03088565, -0.105537237,
                                     -0.683522594, 0.897793049, 0.10586554,  1.08350739,
                                     0.944199206,  0.402862432, 1.41537899,  -0.785423202};
  auto p = pca_reduce(pca_input(), 6, 4, 2, false);
  ASSERT_EQ(p.projected.size(), proj.size());
  for (size_t k = 0; k < proj.size(); ++k) EXPECT_NEAR(p.projected[k], proj[k], 2e-6) << k;
  for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(p.explained_variance[k], var[k], 1e-7) << k;
  EXPECT_NEAR(p.explained_ratio, 0.988097939, 1e-7);
  auto w = pca_reduce(pca_input(), 6, 4, 2, true);
  for (size_t k = 0; k < white.size(); ++k) EXPECT_NEAR(w.projected[k], white[k], 2e-6) << k;
  // Rank-deficient data cannot be whitened past its rank.
  std::vector<float> flat(6 * 4, 0.0f);
  for (int n = 0; n < 6; ++n) flat[static_cast<size_t>(n * 4)] = static_cast<float>(n);
  EXPECT_NE(
      error_of([&] { pca_reduce(flat, 6, 4, 2, true); }).find("component 1 has zero variance"),
      std::string::npos);
}

// Through the import: items with a vector get their PCA rows (in dense id order), 7 stays zero.
TEST(ContentPca, ImportReducesOnlyItemsWithVectors) {
  const auto dir = make_dataset("pca");
  const auto base = fs::path(dir).parent_path().string();
  auto x = pca_input();
  std::string csv;
  for (int n = 0; n < 6; ++n) {
    csv += std::to_string(n == 5 ? 8 : n);  // items 0..4 and 8 (not 7)
    for (int d = 0; d < 4; ++d) csv += fmt::format(",{}", x[static_cast<size_t>(n * 4 + d)]);
    csv += "\n";
  }
  write_text(base + "/v.csv", csv);
  auto o = options(dir, base + "/v.csv");
  o.pca_dim = 2;
  o.whiten = true;
  auto s = import_content(o);
  EXPECT_EQ(s.content_dim, 2);
  EXPECT_NEAR(s.pca_explained, 0.988097939, 1e-6);
  ItemTable t = read_item_table(dir);
  auto w = pca_reduce(x, 6, 4, 2, true);
  const std::vector<std::string> order = {"0", "1", "2", "3", "4", "8"};
  for (size_t r = 0; r < order.size(); ++r) {
    auto i = static_cast<size_t>(std::find(t.raw_ids.begin(), t.raw_ids.end(), order[r]) -
                                 t.raw_ids.begin());
    EXPECT_EQ(t.has_content[i], 1);
    EXPECT_FLOAT_EQ(t.content[i * 2], w.projected[r * 2]);
    EXPECT_FLOAT_EQ(t.content[i * 2 + 1], w.projected[r * 2 + 1]);
  }
  EXPECT_EQ(std::count(t.has_content.begin(), t.has_content.end(), 0), kItems - 6);
  validate_dataset(dir);
}

}  // namespace
