// Format v1 file schema (see files.h and docs/data-format.md).
#include "data_shards/files.h"

#include <fmt/format.h>

#include "core/check.h"
#include "core/fs.h"
#include "data_shards/content_dtype.h"
#include "data_shards/h5.h"

namespace divrec::data {

namespace {

template <typename T>
std::vector<T> read_sized(const h5::Group& g, const std::string& name, int64_t expected) {
  auto v = h5::read_vector<T>(g, name);
  DIVREC_CHECK_HINT(static_cast<int64_t>(v.size()) == expected,
                    "the file is corrupted or was not written by divrec", g.where(name), " has ",
                    v.size(), " rows, expected ", expected);
  return v;
}

std::vector<std::string> read_strings_sized(const h5::Group& g, const std::string& name,
                                            int64_t expected) {
  auto v = g.read_strings(name);
  DIVREC_CHECK_HINT(static_cast<int64_t>(v.size()) == expected,
                    "the file is corrupted or was not written by divrec", g.where(name), " has ",
                    v.size(), " strings, expected ", expected);
  return v;
}

void check_offsets(const h5::Group& g, const std::string& name, const std::vector<int64_t>& off,
                   int64_t total) {
  DIVREC_CHECK_HINT(!off.empty() && off.front() == 0 && off.back() == total,
                    "the file is corrupted", g.where(name), " must start at 0 and end at ", total);
  for (size_t i = 1; i < off.size(); ++i) {
    DIVREC_CHECK_HINT(off[i - 1] <= off[i], "the file is corrupted", g.where(name),
                      " decreases at row ", i, " (", off[i - 1], " > ", off[i], ")");
  }
}

}  // namespace

std::string shard_file_name(int shard) { return fmt::format("shard-{:05d}.h5", shard); }

void check_recorded_crc(const std::string& path, uint32_t expected) {
  DIVREC_CHECK_HINT(core::path_exists(path), "check the dataset directory", "no such file: '", path,
                    "'");
  const uint32_t got = core::crc32_file(path);
  DIVREC_CHECK_HINT(got == expected,
                    "the dataset is corrupted or was changed after conversion; reconvert it with "
                    "divrec shard convert",
                    "checksum mismatch: ", path, " has crc32 ", fmt::format("{:#010x}", got),
                    ", the manifest recorded ", fmt::format("{:#010x}", expected),
                    " (the file was modified or corrupted after conversion)");
}

void write_items_file(const std::string& path, const ItemTable& t) {
  auto f = h5::File::create(path);
  f.stamp("items");
  f.set_attr_int("num_items", t.num_items);
  f.set_attr_int("num_categories", t.num_categories);
  f.set_attr_int("num_attributes", t.num_attributes);
  f.set_attr_int("content_dim", t.content_dim);
  f.set_attr_string("content_model", t.content_model);
  if (!t.content_encoder.empty()) f.set_attr_string("content_encoder", t.content_encoder);
  h5::write_vector(f, "category", t.category);
  h5::write_vector(f, "attr_offsets", t.attr_offsets);
  h5::write_vector(f, "attr_ids", t.attr_ids);
  h5::write_vector(f, "popularity", t.popularity);
  if (t.content_dim > 0) {
    const std::vector<hsize_t> dims{static_cast<hsize_t>(t.num_items),
                                    static_cast<hsize_t>(t.content_dim)};
    if (t.content_bits.empty()) {
      write_content_array(f, "content", t.content, dims, t.content_dtype);
    } else {  // read with ContentRead::kStored: written as read
      write_content_bits(f, "content", t.content_bits, dims, t.content_dtype);
    }
    f.open_dataset("content").set_attr_string("model", t.content_model);
    h5::write_vector(f, "has_content", t.has_content);
  }
  if (t.text_vocab > 0) {  // files without item text keep their earlier bytes
    f.set_attr_int("text_vocab", t.text_vocab);
    f.set_attr_int("text_max_tokens", t.text_max_tokens);
    h5::write_vector(f, "text_offsets", t.text_offsets);
    h5::write_vector(f, "text_ids", t.text_ids);
    h5::write_vector(f, "text_tokenizer",
                     std::vector<uint8_t>(t.text_tokenizer.begin(), t.text_tokenizer.end()));
  }
  f.write_strings("raw_ids", t.raw_ids);
  f.write_strings("category_names", t.category_names);
  f.write_strings("attribute_names", t.attribute_names);
  f.close();
}

ItemTable read_items_file(const std::string& path, ContentRead content) {
  auto f = h5::File::open_divrec(path, "items");
  ItemTable t;
  t.num_items = f.attr_int("num_items");
  t.num_categories = f.attr_int("num_categories");
  t.num_attributes = f.attr_int("num_attributes");
  t.content_dim = f.attr_int("content_dim");
  t.content_model = f.attr_string("content_model");
  if (f.has_attr("content_encoder")) t.content_encoder = f.attr_string("content_encoder");
  DIVREC_CHECK_HINT(
      t.num_items >= 0 && t.num_categories >= 0 && t.num_attributes >= 0 && t.content_dim >= 0,
      "the file is corrupted", path, ": negative counts in the attributes");
  t.category = read_sized<int32_t>(f, "category", t.num_items);
  t.attr_offsets = read_sized<int64_t>(f, "attr_offsets", t.num_items + 1);
  t.attr_ids = h5::read_vector<int32_t>(f, "attr_ids");
  check_offsets(f, "attr_offsets", t.attr_offsets, static_cast<int64_t>(t.attr_ids.size()));
  t.popularity = read_sized<int64_t>(f, "popularity", t.num_items);
  if (t.content_dim > 0) {
    std::vector<hsize_t> dims;
    t.content = read_content_array(f, "content", &dims, &t.content_dtype,
                                   content == ContentRead::kStored ? &t.content_bits : nullptr);
    DIVREC_CHECK_HINT(dims.size() == 2 && static_cast<int64_t>(dims[0]) == t.num_items &&
                          static_cast<int64_t>(dims[1]) == t.content_dim,
                      "the file is corrupted", f.where("content"), " should be [", t.num_items,
                      ", ", t.content_dim, "]");
    // Files written before `shard add-content` existed have no flags: every item has content.
    t.has_content = f.has("has_content")
                        ? read_sized<uint8_t>(f, "has_content", t.num_items)
                        : std::vector<uint8_t>(static_cast<size_t>(t.num_items), 1);
  }
  t.text_vocab = f.has_attr("text_vocab") ? f.attr_int("text_vocab") : 0;
  if (t.text_vocab > 0) {
    t.text_offsets = read_sized<int64_t>(f, "text_offsets", t.num_items + 1);
    t.text_ids = h5::read_vector<int32_t>(f, "text_ids");
    check_offsets(f, "text_offsets", t.text_offsets, static_cast<int64_t>(t.text_ids.size()));
    auto bytes = h5::read_vector<uint8_t>(f, "text_tokenizer");
    t.text_tokenizer.assign(bytes.begin(), bytes.end());
    // Files written before the attribute existed: the longest stored text (the cap, if any hit it).
    t.text_max_tokens =
        f.has_attr("text_max_tokens") ? f.attr_int("text_max_tokens") : t.longest_text();
  }
  t.raw_ids = read_strings_sized(f, "raw_ids", t.num_items);
  t.category_names = read_strings_sized(f, "category_names", t.num_categories);
  t.attribute_names = read_strings_sized(f, "attribute_names", t.num_attributes);
  return t;
}

void write_shard_file(const std::string& path, const UserSequences& s, int shard_index,
                      int num_shards) {
  auto f = h5::File::create(path);
  f.stamp("shard");
  f.set_attr_int("shard_index", shard_index);
  f.set_attr_int("num_shards", num_shards);
  f.set_attr_int("num_users", s.num_users());
  f.set_attr_int("num_events", s.num_events());
  h5::write_vector(f, "user_ids", s.user_ids);
  h5::write_vector(f, "offsets", s.offsets);
  h5::write_vector(f, "items", s.items);
  h5::write_vector(f, "times", s.times);
  h5::write_vector(f, "events", s.events);
  h5::write_vector(f, "valid_start", s.valid_start);
  h5::write_vector(f, "test_start", s.test_start);
  f.close();
}

namespace {
ShardHeader read_header(const h5::File& f) {
  ShardHeader h;
  h.shard_index = static_cast<int>(f.attr_int("shard_index"));
  h.num_shards = static_cast<int>(f.attr_int("num_shards"));
  h.num_users = f.attr_int("num_users");
  h.num_events = f.attr_int("num_events");
  DIVREC_CHECK_HINT(h.num_users >= 0 && h.num_events >= 0 && h.num_shards > 0,
                    "the file is corrupted", f.file(), ": bad counts in the attributes");
  return h;
}
}  // namespace

UserSequences read_shard_file(const std::string& path, ShardHeader* header) {
  auto f = h5::File::open_divrec(path, "shard");
  ShardHeader h = read_header(f);
  UserSequences s;
  s.user_ids = read_sized<int64_t>(f, "user_ids", h.num_users);
  s.offsets = read_sized<int64_t>(f, "offsets", h.num_users + 1);
  check_offsets(f, "offsets", s.offsets, h.num_events);
  s.items = read_sized<int32_t>(f, "items", h.num_events);
  s.times = read_sized<int64_t>(f, "times", h.num_events);
  s.events = read_sized<int8_t>(f, "events", h.num_events);
  s.valid_start = read_sized<int32_t>(f, "valid_start", h.num_users);
  s.test_start = read_sized<int32_t>(f, "test_start", h.num_users);
  if (header) *header = h;
  return s;
}

void read_shard_index(const std::string& path, std::vector<int64_t>* user_ids,
                      std::vector<int64_t>* offsets, ShardHeader* header) {
  auto f = h5::File::open_divrec(path, "shard");
  ShardHeader h = read_header(f);
  *user_ids = read_sized<int64_t>(f, "user_ids", h.num_users);
  *offsets = read_sized<int64_t>(f, "offsets", h.num_users + 1);
  check_offsets(f, "offsets", *offsets, h.num_events);
  if (header) *header = h;
}

void write_manifest_file(const std::string& path, const Manifest& m, const ItemTable& items) {
  // Sealed: nothing else records the manifest's checksum (it records the others').
  auto f = h5::File::create(path, h5::Sealed::kYes);
  f.stamp("manifest");
  f.set_attr_string("source", m.source);
  f.set_attr_string("input", m.input);
  f.set_attr_string("command", m.command);
  f.set_attr_string("split", m.split);
  f.set_attr_int("valid_cut_time", m.valid_cut_time);
  f.set_attr_int("test_cut_time", m.test_cut_time);
  f.set_attr_string("category_method", m.category_method);
  f.set_attr_int("num_users", m.num_users);
  f.set_attr_int("num_items", m.num_items);
  f.set_attr_int("num_interactions", m.num_interactions);
  f.set_attr_int("num_categories", m.num_categories);
  f.set_attr_int("num_attributes", m.num_attributes);
  f.set_attr_int("content_dim", m.content_dim);
  f.set_attr_int("num_shards", static_cast<int64_t>(m.shards.size()));
  f.set_attr_string("items_file", m.items_file);
  f.set_attr_uint32("items_crc32", m.items_crc32);
  if (m.dataset_version > 0) {  // version-0 manifests keep their original bytes
    f.set_attr_int("dataset_version", m.dataset_version);
    f.set_attr_string("previous_manifest", m.previous_manifest);
    f.set_attr_string("version_command", m.version_command);
  }
  auto shards = f.create_group("shards");
  std::vector<std::string> files;
  std::vector<int64_t> users, events;
  std::vector<uint32_t> crcs;
  for (const auto& s : m.shards) {
    files.push_back(s.file);
    users.push_back(s.num_users);
    events.push_back(s.num_events);
    crcs.push_back(s.crc32);
  }
  shards.write_strings("file", files);
  h5::write_vector(shards, "num_users", users);
  h5::write_vector(shards, "num_events", events);
  h5::write_vector(shards, "crc32", crcs);
  auto ids = f.create_group("id_maps");
  ids.write_strings("users", m.user_raw_ids);
  ids.write_strings("items", items.raw_ids);
  ids.write_strings("categories", items.category_names);
  ids.write_strings("attributes", items.attribute_names);
  f.close();
}

Manifest read_manifest_file(const std::string& path) {
  auto f = h5::File::open_divrec(path, "manifest", h5::Sealed::kYes);
  Manifest m;
  m.format_version = static_cast<int>(f.attr_int("divrec_format_version"));
  m.source = f.attr_string("source");
  m.input = f.attr_string("input");
  m.command = f.attr_string("command");
  m.split = f.attr_string("split");
  m.valid_cut_time = f.attr_int("valid_cut_time");
  m.test_cut_time = f.attr_int("test_cut_time");
  m.category_method = f.attr_string("category_method");
  m.num_users = f.attr_int("num_users");
  m.num_items = f.attr_int("num_items");
  m.num_interactions = f.attr_int("num_interactions");
  m.num_categories = f.attr_int("num_categories");
  m.num_attributes = f.attr_int("num_attributes");
  m.content_dim = f.attr_int("content_dim");
  m.items_file = f.attr_string("items_file");
  m.items_crc32 = static_cast<uint32_t>(f.attr_int("items_crc32"));
  if (f.has_attr("dataset_version")) {
    m.dataset_version = f.attr_int("dataset_version");
    m.previous_manifest = f.attr_string("previous_manifest");
    m.version_command = f.attr_string("version_command");
  }
  int64_t num_shards = f.attr_int("num_shards");
  DIVREC_CHECK_HINT(num_shards >= 1 && m.num_users >= 0, "the file is corrupted", path,
                    ": num_shards = ", num_shards, ", num_users = ", m.num_users);
  auto g = f.open_group("shards");
  auto files = read_strings_sized(g, "file", num_shards);
  auto users = read_sized<int64_t>(g, "num_users", num_shards);
  auto events = read_sized<int64_t>(g, "num_events", num_shards);
  auto crcs = read_sized<uint32_t>(g, "crc32", num_shards);
  for (int64_t i = 0; i < num_shards; ++i) {
    auto k = static_cast<size_t>(i);
    m.shards.push_back(ShardInfo{files[k], users[k], events[k], crcs[k]});
  }
  m.user_raw_ids = read_strings_sized(f.open_group("id_maps"), "users", m.num_users);
  return m;
}

ManifestIdMaps read_manifest_id_maps(const std::string& path) {
  auto f = h5::File::open_divrec(path, "manifest", h5::Sealed::kYes);
  auto g = f.open_group("id_maps");
  ManifestIdMaps maps;
  maps.items = read_strings_sized(g, "items", f.attr_int("num_items"));
  maps.categories = read_strings_sized(g, "categories", f.attr_int("num_categories"));
  maps.attributes = read_strings_sized(g, "attributes", f.attr_int("num_attributes"));
  return maps;
}

}  // namespace divrec::data
