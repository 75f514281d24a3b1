// validate_dataset catches corruption (checksums) and broken invariants (with consistent
// checksums, so the deeper checks are what fires); readers give clear errors for truncated,
// foreign and wrong-version files; h5py reads what we write.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data_shards/convert/converters.h"
#include "data_shards/files.h"
#include "data_shards/h5.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;

namespace {

std::string make_dataset(const std::string& name, int shards = 2) {
  SyntheticOptions so;
  so.users = 200;
  so.items = 80;
  so.categories = 4;
  so.content_dim = 4;
  so.seed = 11;
  WriteOptions o;
  o.output_dir = scratch_dir(name) + "/ds";
  o.num_shards = shards;
  o.command = "test";
  write_dataset(convert_synthetic(so), o);
  return o.output_dir;
}

// Rewrites shard 0 after `edit`, and the manifest with the new checksum, so only the invariant
// checks (not the checksum) can notice.
template <typename Edit>
void rewrite_shard0(const std::string& dir, Edit edit) {
  Manifest m = read_manifest_file(dir + "/manifest.h5");
  ItemTable items = read_items_file(dir + "/items.h5");
  std::string path = dir + "/" + m.shards[0].file;
  UserSequences s = read_shard_file(path);
  edit(s);
  write_shard_file(path, s, 0, static_cast<int>(m.shards.size()));
  m.shards[0].crc32 = divrec::core::crc32_file(path);
  write_manifest_file(dir + "/manifest.h5", m, items);
}

}  // namespace

TEST(Validate, FlippedByteFailsOnChecksum) {
  auto dir = make_dataset("val_crc");
  EXPECT_NO_THROW(validate_dataset(dir));
  std::string path = dir + "/shard-00001.h5";
  auto bytes = divrec::core::read_file(path);
  bytes[bytes.size() / 2] ^= 0x5a;
  divrec::testing::write_text(path, bytes);
  auto msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("checksum mismatch: " + path), std::string::npos) << msg;
}

TEST(Validate, ItemIdOutOfRangeNamesFileDatasetRow) {
  auto dir = make_dataset("val_item");
  rewrite_shard0(dir, [](UserSequences& s) { s.items[7] = 80; });
  auto msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("item ids in [0, num_items)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shard-00000.h5:/items, row 7"), std::string::npos) << msg;
}

TEST(Validate, UnsortedTimesAndBadSplitPointsAndPopularity) {
  auto dir = make_dataset("val_time");
  rewrite_shard0(dir, [](UserSequences& s) { std::swap(s.times[0], s.times[1]); });
  auto msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("times non-decreasing per user"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":/times, row 1"), std::string::npos) << msg;

  dir = make_dataset("val_split");
  rewrite_shard0(dir, [](UserSequences& s) { s.valid_start[2] -= 1; });
  msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("leave-one-out: valid_start = length - 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":/valid_start, row 2"), std::string::npos) << msg;

  // Replacing one train event's item keeps every range valid but breaks train popularity.
  dir = make_dataset("val_pop");
  rewrite_shard0(dir, [](UserSequences& s) { s.items[0] = (s.items[0] + 1) % 80; });
  msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("popularity equals train-split counts"), std::string::npos) << msg;
}

TEST(Validate, MovedUserBreaksShardPartition) {
  auto dir = make_dataset("val_part");
  // Give shard 0's first user the id of a user that lives in shard 1.
  UserSequences s1 = read_shard_file(dir + "/shard-00001.h5");
  rewrite_shard0(dir, [&](UserSequences& s) {
    s.user_ids[0] = s1.user_ids[0];
    std::sort(s.user_ids.begin(), s.user_ids.end());
  });
  auto msg = error_of([&] { validate_dataset(dir); });
  EXPECT_NE(msg.find("user in shard fnv1a64(raw id) % num_shards"), std::string::npos) << msg;
}

TEST(Readers, TruncatedForeignAndWrongVersionFiles) {
  auto dir = make_dataset("rd_bad");
  std::string shard = dir + "/shard-00000.h5";
  auto bytes = divrec::core::read_file(shard);
  divrec::testing::write_text(shard, bytes.substr(0, bytes.size() - 100));
  // The manifest's crc32 is checked before HDF5 opens the shard.
  auto msg = error_of([&] { read_all_users(dir); });
  EXPECT_NE(msg.find("checksum mismatch: " + shard + " has crc32 "), std::string::npos) << msg;

  divrec::testing::write_text(dir + "/items.h5", "{\"not\": \"hdf5\"}");
  msg = error_of([&] { read_item_table(dir); });
  EXPECT_NE(msg.find("checksum mismatch: " + dir + "/items.h5"), std::string::npos) << msg;

  {  // a manifest from a future format version (sealed, so only the version check fires)
    auto f = h5::File::create(dir + "/manifest.h5", h5::Sealed::kYes);
    f.stamp("manifest");
    f.set_attr_int("divrec_format_version", 2);
    f.close();
  }
  msg = error_of([&] { read_manifest(dir); });
  EXPECT_NE(msg.find("manifest.h5' has divrec format version 2; this build reads version 1"),
            std::string::npos)
      << msg;
  msg = error_of([&] { read_manifest(dir + "/nowhere"); });
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

// Every reader verifies a checksum before libhdf5 sees the bytes: the manifest its own header
// (user block), the items and shard files the manifest's crc32. One flipped byte anywhere in a
// file is reported with the file name and both checksums.
TEST(Readers, FlippedByteRejectedBeforeHdf5) {
  auto dir = make_dataset("rd_flip");
  const std::string files[] = {"manifest.h5", "items.h5", "shard-00000.h5", "shard-00001.h5"};
  for (const auto& name : files) {
    const std::string path = dir + "/" + name;
    const auto good = divrec::core::read_file(path);
    for (size_t at : {size_t{600}, good.size() / 2, good.size() - 1}) {
      auto bad = good;
      bad[at] ^= 0x01;
      divrec::testing::write_text(path, bad);
      auto msg = error_of([&] {
        read_manifest(dir);
        read_item_table(dir);
        read_all_users(dir);
      });
      EXPECT_NE(msg.find(path), std::string::npos) << name << " @" << at << ": " << msg;
      if (name == "manifest.h5") {
        EXPECT_NE(msg.find("failed its checksum before HDF5 read it: CRC-32 mismatch: header "),
                  std::string::npos)
            << msg;
      } else {
        EXPECT_NE(msg.find("checksum mismatch: " + path + " has crc32 0x"), std::string::npos)
            << msg;
        EXPECT_NE(msg.find("the manifest recorded 0x"), std::string::npos) << msg;
      }
      EXPECT_EQ(msg.find("HDF5:"), std::string::npos) << "libhdf5 parsed it: " << msg;
    }
    divrec::testing::write_text(path, good);
  }
  EXPECT_NO_THROW(read_all_users(dir));
  // A manifest without the header (e.g. an older build's) is refused, naming the file.
  {
    auto f = h5::File::create(dir + "/manifest.h5");
    f.stamp("manifest");
    f.close();
  }
  auto msg = error_of([&] { read_manifest(dir); });
  EXPECT_NE(msg.find("manifest.h5' is not a checksummed divrec file"), std::string::npos) << msg;
}

TEST(H5py, ReadsOurFilesIncludingStrings) {
  if (!std::filesystem::exists("/usr/bin/python3") ||
      std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with h5py not available";
  }
  auto dir = make_dataset("h5py", 3);
  std::string script = dir + "/../read.py";
  divrec::testing::write_text(script, R"(import h5py, json, sys
d = sys.argv[1]
m = h5py.File(d + '/manifest.h5', 'r')
it = h5py.File(d + '/items.h5', 'r')
s = h5py.File(d + '/shard-00000.h5', 'r')
print(json.dumps({
  'kind': m.attrs['divrec_kind'], 'version': int(m.attrs['divrec_format_version']),
  'source': m.attrs['source'], 'num_users': int(m.attrs['num_users']),
  'users': list(m['id_maps/users'].asstr()[:3]),
  'shard_files': list(m['shards/file'].asstr()[:]),
  'crc0': int(m['shards/crc32'][0]),
  'content_shape': list(it['content'].shape), 'content_model': it['content'].attrs['model'],
  'item0': it['raw_ids'].asstr()[0], 'category_names': list(it['category_names'].asstr()[:]),
  'shard_users': int(s['user_ids'].shape[0]), 'offsets_last': int(s['offsets'][-1]),
  'items_sum': int(s['items'][:].sum()), 'events_dtype': str(s['events'].dtype)}))
)");
  std::string out_path = dir + "/../out.json";
  int rc = std::system(("/usr/bin/python3 " + script + " " + dir + " > " + out_path).c_str());
  ASSERT_EQ(rc, 0);
  auto j = nlohmann::json::parse(divrec::core::read_file(out_path));
  Manifest m = read_manifest(dir);
  ItemTable t = read_item_table(dir);
  UserSequences s0 = read_shards(dir, {0});
  EXPECT_EQ(j["kind"], "manifest");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["source"], "synthetic");
  EXPECT_EQ(j["num_users"], m.num_users);
  EXPECT_EQ(j["users"],
            (std::vector<std::string>{m.user_raw_ids[0], m.user_raw_ids[1], m.user_raw_ids[2]}));
  EXPECT_EQ(j["shard_files"],
            (std::vector<std::string>{"shard-00000.h5", "shard-00001.h5", "shard-00002.h5"}));
  EXPECT_EQ(j["crc0"], m.shards[0].crc32);
  EXPECT_EQ(j["content_shape"], (std::vector<int64_t>{t.num_items, 4}));
  EXPECT_EQ(j["content_model"], "synthetic-gaussian");
  EXPECT_EQ(j["item0"], t.raw_ids[0]);
  EXPECT_EQ(j["category_names"], t.category_names);
  EXPECT_EQ(j["shard_users"], s0.num_users());
  EXPECT_EQ(j["offsets_last"], s0.num_events());
  int64_t sum = 0;
  for (auto i : s0.items) sum += i;
  EXPECT_EQ(j["items_sum"], sum);
  EXPECT_EQ(j["events_dtype"], "int8");
}
