// The artifact is readable with h5py alone: tools/read_artifact.py (the reference reader of
// docs/serving.md, h5py + numpy + zlib) recomputes the checksum from the datasets in the
// documented order, and compares every weight, the item vectors and item arrays exactly against
// values this test takes from the CHECKPOINT's model (not from the artifact).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/run_command.h"
#include "core/check.h"
#include "core/fs.h"
#include "eval/model_loader.h"
#include "serving/artifact.h"
#include "serving/fixtures.h"

using namespace divrec;
using nlohmann::json;

namespace {

const char* kPython = "/usr/bin/python3";

using divrec::testing::run_command;

json tensor_json(const torch::Tensor& t) {
  auto c = t.detach().contiguous().to(torch::kFloat32);
  std::vector<float> v(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return {{"shape", c.sizes().vec()}, {"values", v}};
}

bool python_has_h5py() {
  if (!std::filesystem::exists(kPython)) return false;
  return run_command(std::string(kPython) + " -c 'import h5py, numpy' 2>/dev/null").first == 0;
}

TEST(ArtifactH5py, ReferenceReaderAgreesWithCheckpoint) {
  if (!python_has_h5py())
    GTEST_SKIP() << kPython << " with h5py + numpy not found (Debian: python3-h5py)";
  const std::string script = "tools/read_artifact.py";  // tests run from the repository root
  ASSERT_TRUE(std::filesystem::exists(script)) << "run from the repository root";
  for (const std::string objective : {"next-item", "masked-item"}) {
    auto f = divrec::testing::make_serving_fixture("h5py_" + objective, objective, 23);
    auto items = data::read_item_table(f.data_dir);
    auto loaded = eval::load_model_for_eval(f.checkpoint, items);
    json expect;
    for (const auto& p : loaded.model->named_parameters(true)) {
      expect["weights"][p.key()] = tensor_json(p.value());
    }
    {
      torch::NoGradGuard ng;
      expect["item_vectors"] = tensor_json(loaded.model->item_vectors());
    }
    expect["raw_ids"] = items.raw_ids;
    expect["category"] = items.category;
    expect["popularity"] = items.popularity;
    expect["attr_offsets"] = items.attr_offsets;
    expect["attr_ids"] = items.attr_ids;
    std::string expect_path = f.dir + "/expect.json";
    core::write_file_atomic(expect_path, expect.dump());

    auto [status, out] = run_command(std::string(kPython) + " " + script + " " + f.artifact +
                                     " --expect " + expect_path);
    ASSERT_EQ(status, 0) << out;
    auto j = json::parse(out);
    auto a = serving::read_artifact(f.artifact);
    EXPECT_EQ(j["checksum_stored"].get<uint32_t>(), a.checksum);
    EXPECT_EQ(j["checksum_computed"].get<uint32_t>(), a.checksum);
    EXPECT_TRUE(j["problems"].empty()) << j["problems"].dump(1);
    EXPECT_EQ(j["kind"], serving::kArtifactKind);
    EXPECT_EQ(j["format_version"], serving::kArtifactFormatVersion);
    EXPECT_EQ(j["objective"], objective);
    EXPECT_EQ(j["config"]["dim"], "16");
    EXPECT_EQ(j["weights"].size(), loaded.model->named_parameters(true).size());
    EXPECT_EQ(j["weight_names_attr"].size(), j["weights"].size());
  }
}

TEST(ArtifactH5py, ReferenceReaderDetectsTampering) {
  if (!python_has_h5py()) GTEST_SKIP() << kPython << " with h5py + numpy not found";
  auto f = divrec::testing::make_serving_fixture("h5py_tamper");
  std::string p = f.dir + "/tampered.h5";
  std::filesystem::copy_file(f.artifact, p);
  auto [st0, out0] = run_command(std::string(kPython) + " -c \"import h5py; f = h5py.File('" + p +
                                 "', 'r+'); f['item_vectors'][0, 0] += 1; f.close()\"");
  ASSERT_EQ(st0, 0) << out0;
  auto [status, out] = run_command(std::string(kPython) + " tools/read_artifact.py " + p + " 2>&1");
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("checksum mismatch"), std::string::npos) << out;
  // And the C++ reader agrees.
  EXPECT_THROW(serving::read_artifact(p), divrec::Error);
}

}  // namespace
