// Serving artifact: export round trip (every weight equals the checkpoint's, item vectors equal
// the model's, item table and defaults preserved), and the load errors: not HDF5, another divrec
// file kind, wrong format version, checksum mismatch after a data change, truncation, missing
// dataset. Each error must name the file.
#include <c10/util/BFloat16.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "core/fs.h"
#include "data_shards/content_dtype.h"
#include "data_shards/h5.h"
#include "data_shards/h5_seal.h"
#include "eval/model_loader.h"
#include "serving/artifact.h"
#include "serving/artifact_model.h"
#include "serving/fixtures.h"

namespace fs = std::filesystem;
using namespace divrec;
using divrec::testing::make_serving_fixture;
using divrec::testing::ServingFixture;

namespace {

const ServingFixture& fixture() {
  static ServingFixture f = [] {
    serving::RecommendSettings d;
    d.k = 7;
    d.candidates = 30;
    d.rerank.method = eval::RerankMethod::kDpp;
    d.rerank.theta = 2.5;
    d.similarity = eval::SimilarityKind::kJaccard;
    d.constraints.max_per_category = 3;
    d.constraints.max_similarity = 0.75f;
    return make_serving_fixture("artifact", "next-item", 7, d);
  }();
  return f;
}

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

std::string copy_to(const std::string& src, const std::string& name) {
  std::string dst = fixture().dir + "/" + name;
  fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
  return dst;
}

// Opens a copy read-write with the shared wrappers (the tests' way to damage a file).
data::h5::File open_rw(const std::string& path) {
  auto l = data::h5::lock();
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  EXPECT_GE(id, 0) << path;
  return data::h5::File(id, H5Fclose, path, "/");
}

// After an edit through HDF5: a new whole-file checksum, as a careless tool would write, so the
// checks behind it (format version, dataset checksum, datasets) are what fires.
void reseal(const std::string& path) { data::h5::write_seal(path); }

// model::TableContent::kTake (run_eval's load, the Recommender's rebuild): the content moves
// out of the table / artifact into a model equal to the one the copying overloads build.
TEST(Artifact, TakingTheContentBuildsTheSameModels) {
  const auto& f = fixture();
  torch::NoGradGuard ng;
  for (auto read : {data::ContentRead::kWidened, data::ContentRead::kStored}) {
    auto copied = data::read_item_table(f.data_dir, read);
    auto taken = data::read_item_table(f.data_dir, read);
    ASSERT_GT(taken.content_dim, 0);
    auto a = eval::load_model_for_eval(f.checkpoint, copied);
    auto b = eval::load_model_for_eval(f.checkpoint, taken, model::TableContent::kTake);
    EXPECT_TRUE(taken.content.empty() && taken.content_bits.empty());
    EXPECT_FALSE(copied.content.empty() && copied.content_bits.empty());
    EXPECT_TRUE(torch::equal(a.model->item_vectors(), b.model->item_vectors()));
  }
  auto copied = serving::read_artifact(f.artifact);
  auto taken = serving::read_artifact(f.artifact);
  auto a = serving::rebuild_model(copied);
  auto b = serving::rebuild_model(taken, serving::IdTable::kAttach, model::TableContent::kTake);
  EXPECT_TRUE(taken.items.content.empty() && taken.items.content_bits.empty());
  EXPECT_EQ(serving::artifact_checksum(copied), copied.checksum);  // the copy keeps it all
  EXPECT_TRUE(torch::equal(a->item_vectors(), b->item_vectors()));
}

TEST(Artifact, RoundTripMatchesCheckpoint) {
  const auto& f = fixture();
  auto a = serving::read_artifact(f.artifact);
  auto items = data::read_item_table(f.data_dir);
  auto loaded = eval::load_model_for_eval(f.checkpoint, items);

  EXPECT_EQ(a.format_version, serving::kArtifactFormatVersion);
  EXPECT_EQ(a.objective, "next-item");
  EXPECT_EQ(a.source_checkpoint, f.checkpoint);
  EXPECT_EQ(a.config.dim, 16);
  EXPECT_EQ(a.config.max_len, 8);
  EXPECT_EQ(a.config.num_items, items.num_items);
  EXPECT_EQ(a.checksum, serving::artifact_checksum(a));

  auto params = loaded.model->named_parameters(true);
  ASSERT_EQ(a.weight_names.size(), params.size());
  for (size_t i = 0; i < a.weight_names.size(); ++i) {
    ASSERT_TRUE(params.contains(a.weight_names[i])) << a.weight_names[i];
    EXPECT_TRUE(torch::equal(a.weights[i], params[a.weight_names[i]])) << a.weight_names[i];
  }
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(a.item_vectors, loaded.model->item_vectors()));

  EXPECT_EQ(a.items.raw_ids, items.raw_ids);
  EXPECT_EQ(a.items.category, items.category);
  EXPECT_EQ(a.items.attr_offsets, items.attr_offsets);
  EXPECT_EQ(a.items.attr_ids, items.attr_ids);
  EXPECT_EQ(a.items.popularity, items.popularity);
  EXPECT_EQ(a.items.content, items.content);
  EXPECT_EQ(a.items.category_names, items.category_names);
  EXPECT_EQ(a.items.attribute_names, items.attribute_names);

  EXPECT_EQ(a.defaults.k, 7);
  EXPECT_EQ(a.defaults.candidates, 30);
  EXPECT_EQ(a.defaults.rerank.method, eval::RerankMethod::kDpp);
  EXPECT_DOUBLE_EQ(a.defaults.rerank.theta, 2.5);
  EXPECT_EQ(a.defaults.similarity, eval::SimilarityKind::kJaccard);
  EXPECT_EQ(a.defaults.constraints.max_per_category, 3);
  EXPECT_FLOAT_EQ(a.defaults.constraints.max_similarity, 0.75f);
}

// bf16 content is read as its patterns (no fp32 copy), checksummed over its fp32 values (so a
// file written from widened values verifies), and written back as it was read.
TEST(Artifact, SixteenBitContentStaysSixteenBit) {
  auto a = serving::read_artifact(fixture().artifact);
  ASSERT_GT(a.items.content_dim, 0);
  ASSERT_TRUE(a.items.content_bits.empty());  // the fixture's content is fp32
  a.items.content_dtype = data::ContentDtype::kBFloat16;
  data::round_to_content_dtype(a.items.content_dtype, a.items.content.data(),
                               a.items.content.size(), "test");
  const auto widened = a.items.content;
  const std::string p1 = fixture().dir + "/bf16.h5", p2 = fixture().dir + "/bf16-again.h5";
  serving::write_artifact(p1, a);  // checksum over the widened values

  auto b = serving::read_artifact(p1);  // verifies that checksum from the patterns
  EXPECT_TRUE(b.items.content.empty());
  ASSERT_EQ(b.items.content_bits.size(), widened.size());
  for (size_t k = 0; k < widened.size(); ++k) {
    ASSERT_EQ(b.items.content_bits[k], c10::BFloat16(widened[k]).x) << k;
  }
  EXPECT_EQ(b.checksum, serving::artifact_checksum(a));
  EXPECT_EQ(serving::artifact_checksum(b), serving::artifact_checksum(a));
  serving::write_artifact(p2, b);  // from the patterns
  auto c = serving::read_artifact(p2);
  EXPECT_EQ(c.items.content_bits, b.items.content_bits);
  EXPECT_EQ(c.checksum, b.checksum);
  // One pattern off changes the checksum; patterns beside widened values are refused.
  c.items.content_bits[5] ^= 1;
  EXPECT_NE(serving::artifact_checksum(c), b.checksum);
  c.items.content = widened;
  EXPECT_NE(error_of([&] {
              serving::write_artifact(fixture().dir + "/bad.h5", c);
            }).find("16-bit values and widened ones"),
            std::string::npos);
}

TEST(Artifact, ChecksumCoversEveryPart) {
  auto a = serving::read_artifact(fixture().artifact);
  const uint32_t base = serving::artifact_checksum(a);
  auto changed = [&](auto&& mutate) {
    auto b = serving::read_artifact(fixture().artifact);
    mutate(b);
    return serving::artifact_checksum(b) != base;
  };
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.item_vectors[3][2] += 1e-3f; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.weights.back().view(-1)[0] += 1e-3f; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.items.category[0] = -1; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.items.popularity[5] += 1; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.items.raw_ids[0] += "x"; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.items.attribute_names[1] = "?"; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.defaults.k = 3; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.config.layer_norm_eps = 1e-5; }));
  EXPECT_TRUE(changed([](serving::Artifact& b) { b.objective = "masked-item"; }));
  EXPECT_FALSE(changed([](serving::Artifact& b) { b.export_command = "other"; }));
  // The order of the weight list is not part of the checksum (it is defined by name order).
  EXPECT_FALSE(changed([](serving::Artifact& b) {
    std::swap(b.weight_names[0], b.weight_names[1]);
    std::swap(b.weights[0], b.weights[1]);
  }));
}

TEST(Artifact, NotHdf5) {
  std::string p = fixture().dir + "/not.h5";
  core::write_file_atomic(p, "this is a text file, not HDF5\n");
  auto msg = error_of([&] { serving::read_artifact(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a file `divrec export` wrote"), std::string::npos) << msg;
  auto missing = error_of([&] { serving::read_artifact(fixture().dir + "/nope.h5"); });
  EXPECT_NE(missing.find("serving artifact '" + fixture().dir + "/nope.h5': no such file"),
            std::string::npos)
      << missing;
  EXPECT_NE(missing.find("divrec export"), std::string::npos) << missing;  // the hint
}

TEST(Artifact, OtherDivrecFile) {
  std::string manifest = fixture().data_dir + "/manifest.h5";  // sealed too: the kind check fires
  auto msg = error_of([&] { serving::read_artifact(manifest); });
  EXPECT_NE(msg.find(manifest), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a serving artifact"), std::string::npos) << msg;
  std::string items = fixture().data_dir + "/items.h5";  // no header of its own
  msg = error_of([&] { serving::read_artifact(items); });
  EXPECT_NE(msg.find("serving artifact '" + items + "': not a file `divrec export` wrote"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("items.h5 are not artifacts"), std::string::npos) << msg;
}

// The whole-file CRC is verified before libhdf5 parses anything: a flipped byte anywhere (HDF5
// superblock, object headers, chunk data, the end) is named with both checksums, and HDF5's own
// error stack never appears.
TEST(Artifact, FlippedByteRejectedBeforeHdf5) {
  const std::string good = core::read_file(fixture().artifact);
  const std::string p = fixture().dir + "/flipped.h5";
  for (size_t at : {size_t{512}, size_t{700}, good.size() / 3, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] ^= 0x20;
    core::write_file_atomic(p, bad);
    auto msg = error_of([&] { serving::read_artifact(p); });
    EXPECT_NE(msg.find("'" + p +
                       "' failed its checksum before HDF5 read it: CRC-32 mismatch: "
                       "header "),
              std::string::npos)
        << at << ": " << msg;
    EXPECT_NE(msg.find(", contents "), std::string::npos) << msg;
    EXPECT_EQ(msg.find("HDF5:"), std::string::npos) << msg;
  }
  core::write_file_atomic(p, good + "appended");
  auto msg = error_of([&] { serving::read_artifact(p); });
  EXPECT_NE(msg.find("length mismatch"), std::string::npos) << msg;
  core::write_file_atomic(p, good);
  EXPECT_NO_THROW(serving::read_artifact(p));
}

TEST(Artifact, WrongFormatVersion) {
  std::string p = copy_to(fixture().artifact, "v99.h5");
  {
    auto f = open_rw(p);
    f.set_attr_int("divrec_format_version", 99);
    f.close();
  }
  reseal(p);
  auto msg = error_of([&] { serving::read_artifact(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("format version 99"), std::string::npos) << msg;
}

TEST(Artifact, ChecksumMismatchAfterDataChange) {
  std::string p = copy_to(fixture().artifact, "tampered.h5");
  {
    auto f = open_rw(p);
    auto l = data::h5::lock();
    auto w = f.open_group("weights");
    auto ds = w.open_dataset("final_norm.bias");
    std::vector<float> v(static_cast<size_t>(fixture().config.dim), 0.5f);
    ASSERT_GE(H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
    ds.reset();
    w.reset();
    f.close();
  }
  reseal(p);
  auto msg = error_of([&] { serving::read_artifact(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
}

TEST(Artifact, Truncated) {
  std::string full = core::read_file(fixture().artifact);
  for (double frac : {0.5, 0.9, 0.999}) {
    std::string p = fixture().dir + "/truncated.h5";
    core::write_file_atomic(p, full.substr(0, static_cast<size_t>(full.size() * frac)));
    auto msg = error_of([&] { serving::read_artifact(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << frac << ": " << msg;
  }
}

TEST(Artifact, MissingDataset) {
  std::string p = copy_to(fixture().artifact, "missing.h5");
  {
    auto f = open_rw(p);
    auto l = data::h5::lock();
    ASSERT_GE(H5Ldelete(f.id(), "items/popularity", H5P_DEFAULT), 0);
    f.close();
  }
  reseal(p);
  auto msg = error_of([&] { serving::read_artifact(p); });
  EXPECT_NE(msg.find(p + ":/items/popularity"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing dataset"), std::string::npos) << msg;
}

TEST(Artifact, WriteIsAtomicAndChecksInputs) {
  auto a = serving::read_artifact(fixture().artifact);
  std::string p = fixture().dir + "/bad.h5";
  a.items.popularity.pop_back();  // inconsistent: must be refused before anything is written
  auto msg = error_of([&] { serving::write_artifact(p, a); });
  EXPECT_NE(msg.find("popularity"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(p));
  for (const auto& e : fs::directory_iterator(fixture().dir)) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
}

}  // namespace
