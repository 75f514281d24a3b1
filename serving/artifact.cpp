// Serving artifact I/O (see artifact.h): the HDF5 layout of docs/serving.md through the shared
// data_shards/h5.h wrappers, the fixed-order checksum, and the atomic write.
#include "serving/artifact.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (there since fmt 11)

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/check.h"
#include "core/fs.h"
#include "core/huge_pages.h"
#include "data_shards/content_dtype.h"
#include "data_shards/h5.h"
#include "data_shards/h5_seal.h"
#include "trainer/model/config_io.h"

namespace divrec::serving {

namespace h5 = data::h5;

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the artifact checksum is defined over little-endian bytes");

std::vector<hsize_t> dims_of(const torch::Tensor& t) {
  std::vector<hsize_t> d;
  for (auto s : t.sizes()) d.push_back(static_cast<hsize_t>(s));
  return d;
}

std::string shape_str(const std::vector<hsize_t>& d) {
  return fmt::format("[{}]", fmt::join(d, ", "));
}

// A float array of any rank read straight into a new CPU float32 tensor (no intermediate copy:
// the item vectors and id embeddings of a 10 M-item catalog are 2.5 GB each); *d gets its dims.
torch::Tensor read_float_tensor(const h5::Group& g, const std::string& name,
                                std::vector<hsize_t>* d) {
  const h5::Dataset ds = g.open_dataset(name);
  *d = ds.dims();
  DIVREC_CHECK_HINT(!d->empty(), "re-export the model with `divrec export`", g.where(name),
                    " is a scalar, expected an array");
  const std::vector<int64_t> shape(d->begin(), d->end());
  torch::Tensor t = core::empty_huge(shape, torch::kFloat32);
  g.read_raw(ds, H5T_NATIVE_FLOAT, t.data_ptr<float>());
  return t;
}

// Indices of weight_names in byte-wise name order (the checksum order).
std::vector<size_t> weight_order(const Artifact& a) {
  std::vector<size_t> idx(a.weight_names.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(),
            [&](size_t x, size_t y) { return a.weight_names[x] < a.weight_names[y]; });
  return idx;
}

template <typename T>
uint32_t crc_vec(const std::vector<T>& v, uint32_t crc) {
  return core::crc32_bytes(v.data(), v.size() * sizeof(T), crc);
}

// The content's CRC is over its fp32 values whichever way it is held: artifacts checksummed
// before 16-bit content stayed 16-bit in memory still verify, and so does the reference reader.
uint32_t content_crc(const data::ItemTable& t, uint32_t crc) {
  if (t.content_bits.empty()) return crc_vec(t.content, crc);
  constexpr size_t kChunk = size_t{1} << 16;
  std::vector<float> wide(std::min(kChunk, t.content_bits.size()));
  for (size_t at = 0; at < t.content_bits.size(); at += kChunk) {
    const size_t len = std::min(kChunk, t.content_bits.size() - at);
    data::widen_content_bits(t.content_dtype, t.content_bits.data() + at, len, wide.data());
    crc = core::crc32_bytes(wide.data(), len * sizeof(float), crc);
  }
  return crc;
}

uint32_t crc_strings(const std::vector<std::string>& v, uint32_t crc) {
  const char nul = '\0';
  for (const auto& s : v) {
    crc = core::crc32_bytes(s.data(), s.size(), crc);
    crc = core::crc32_bytes(&nul, 1, crc);
  }
  return crc;
}

// Everything write_artifact relies on and read_artifact re-checks; `where` names the file.
void check_consistent(const Artifact& a, const std::string& where) {
  const auto& it = a.items;
  const int64_t n = it.num_items;
  auto fail_if = [&](bool bad, const std::string& what) {
    DIVREC_CHECK_HINT(!bad, "re-export the model with `divrec export`", "serving artifact '", where,
                      "': ", what);
  };
  fail_if(n <= 0, fmt::format("the item table has {} items", n));
  fail_if(a.config.num_items != n,
          fmt::format("model config has num_items = {} but the item table has {} items",
                      a.config.num_items, n));
  fail_if(a.objective != "next-item" && a.objective != "masked-item",
          fmt::format("objective '{}' is neither next-item nor masked-item", a.objective));
  fail_if(!a.item_vectors.defined() || a.item_vectors.dim() != 2 || a.item_vectors.size(0) != n ||
              a.item_vectors.size(1) != a.config.dim ||
              a.item_vectors.scalar_type() != torch::kFloat32,
          fmt::format("item_vectors must be float32 [{}, {}]", n, a.config.dim));
  fail_if(a.weight_names.empty() || a.weight_names.size() != a.weights.size(),
          fmt::format("{} weight names for {} weights", a.weight_names.size(), a.weights.size()));
  for (size_t i = 0; i < a.weights.size(); ++i) {
    const auto& w = a.weights[i];
    fail_if(!w.defined() || w.dim() < 1 || w.scalar_type() != torch::kFloat32 ||
                !w.is_contiguous() || !w.device().is_cpu(),
            "weight '" + a.weight_names[i] + "' must be a contiguous CPU float32 tensor");
    fail_if(a.weight_names[i].empty() || a.weight_names[i].find('/') != std::string::npos,
            "weight name '" + a.weight_names[i] + "' is empty or contains '/'");
  }
  fail_if(static_cast<int64_t>(it.category.size()) != n,
          fmt::format("items/category has {} entries for {} items", it.category.size(), n));
  fail_if(static_cast<int64_t>(it.attr_offsets.size()) != n + 1 || it.attr_offsets.front() != 0 ||
              it.attr_offsets.back() != static_cast<int64_t>(it.attr_ids.size()),
          fmt::format("items/attr_offsets must have {} entries from 0 to {} (attr_ids)", n + 1,
                      it.attr_ids.size()));
  fail_if(static_cast<int64_t>(it.popularity.size()) != n,
          fmt::format("items/popularity has {} entries for {} items", it.popularity.size(), n));
  fail_if(static_cast<int64_t>(it.raw_ids.size()) != n,
          fmt::format("items/raw_ids has {} entries for {} items", it.raw_ids.size(), n));
  fail_if(static_cast<int64_t>(it.category_names.size()) != it.num_categories,
          fmt::format("items/category_names has {} entries for {} categories",
                      it.category_names.size(), it.num_categories));
  fail_if(static_cast<int64_t>(it.attribute_names.size()) != it.num_attributes,
          fmt::format("items/attribute_names has {} entries for {} attributes",
                      it.attribute_names.size(), it.num_attributes));
  // fp16/bf16 content is held either widened (content) or as its patterns (content_bits).
  const bool bits = !it.content_bits.empty();
  const size_t content_values = bits ? it.content_bits.size() : it.content.size();
  fail_if(it.content_dim < 0 || static_cast<int64_t>(content_values) != n * it.content_dim ||
              (bits && (!it.content.empty() || it.content_dtype == data::ContentDtype::kFloat32)),
          fmt::format("items/content has {} {}values{}, expected {} x {}", content_values,
                      bits ? "16-bit " : "", bits && !it.content.empty() ? " and widened ones" : "",
                      n, it.content_dim));
  fail_if(!it.has_content.empty() && static_cast<int64_t>(it.has_content.size()) != n,
          fmt::format("items/has_content has {} entries for {} items", it.has_content.size(), n));
  fail_if(it.text_vocab > 0 && (static_cast<int64_t>(it.text_offsets.size()) != n + 1 ||
                                it.text_offsets.front() != 0 ||
                                it.text_offsets.back() != static_cast<int64_t>(it.text_ids.size())),
          fmt::format("items/text_offsets must have {} entries from 0 to {} (text_ids)", n + 1,
                      it.text_ids.size()));
  fail_if(a.config.num_text_tokens != it.text_vocab,
          "model config num-text-tokens differs from the item table's text_vocab");
  fail_if(a.config.num_categories != it.num_categories ||
              a.config.num_attributes != it.num_attributes ||
              a.config.content_dim != it.content_dim,
          "model config catalog sizes (categories, attributes, content_dim) differ from the "
          "item table's");
}

template <typename T>
std::vector<T> read_1d(const h5::Group& g, const std::string& name, size_t expected) {
  auto v = h5::read_vector<T>(g, name);
  DIVREC_CHECK_HINT(v.size() == expected, "re-export the model with `divrec export`", g.where(name),
                    " has ", v.size(), " entries, expected ", expected);
  return v;
}

nlohmann::json ann_ref_json(const eval::AnnIndexRef& r) {
  if (!r.present()) return nlohmann::json::object();
  return {{"file", r.file},
          {"kind", eval::ann_kind_name(r.kind)},
          {"items", r.items},
          {"dim", r.dim},
          {"vectors_crc32", r.vectors_crc}};
}

eval::AnnIndexRef ann_ref_from(const std::string& text, const std::string& where) {
  eval::AnnIndexRef r;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.empty()) return r;
    r.file = j.at("file").get<std::string>();
    r.kind = eval::parse_ann_kind(j.at("kind").get<std::string>());
    DIVREC_CHECK(r.kind != eval::AnnKind::kAuto, "kind 'auto' is a build request, not an index");
    r.items = j.at("items").get<int64_t>();
    r.dim = j.at("dim").get<int64_t>();
    r.vectors_crc = j.at("vectors_crc32").get<uint32_t>();
  } catch (const std::exception& e) {
    DIVREC_FAIL("serving artifact '", where, "': bad ann_index attribute: ", message_of(e));
  }
  DIVREC_CHECK_HINT(!r.file.empty() && r.file.find('/') == std::string::npos,
                    "re-export the model with `divrec export`", "serving artifact '", where,
                    "': ann_index file '", r.file, "' must be a base name");
  return r;
}

}  // namespace

uint32_t artifact_checksum(const Artifact& a) {
  auto iv = a.item_vectors.contiguous();
  uint32_t crc = core::crc32_bytes(iv.data_ptr(), iv.numel() * iv.element_size(), 0);
  for (size_t i : weight_order(a)) {
    auto w = a.weights[i].contiguous();
    crc = core::crc32_bytes(w.data_ptr(), w.numel() * w.element_size(), crc);
  }
  const auto& it = a.items;
  crc = crc_vec(it.category, crc);
  crc = crc_vec(it.attr_offsets, crc);
  crc = crc_vec(it.attr_ids, crc);
  crc = crc_vec(it.popularity, crc);
  crc = content_crc(it, crc);
  crc = crc_vec(it.has_content, crc);   // empty (all items have content) adds nothing
  crc = crc_vec(it.text_offsets, crc);  // empty without item text
  crc = crc_vec(it.text_ids, crc);
  crc = core::crc32_bytes(it.text_tokenizer.data(), it.text_tokenizer.size(), crc);  // may be empty
  crc = crc_strings(it.raw_ids, crc);
  crc = crc_strings(it.category_names, crc);
  crc = crc_strings(it.attribute_names, crc);
  // The attributes that change answers (not the provenance ones), as they are stored.
  crc = crc_strings({model::to_ini(a.config), a.objective, to_json(a.defaults).dump()}, crc);
  return fairness_checksum(a.fairness, crc);
}

void write_artifact(const std::string& path, Artifact& a) {
  check_consistent(a, path);
  validate(a.defaults);
  a.format_version = kArtifactFormatVersion;
  a.checksum = artifact_checksum(a);
  const std::string tmp = core::temp_path_for(path);
  try {
    auto f = h5::File::create(tmp, h5::Sealed::kYes);  // file CRC checked before HDF5 opens it
    f.set_attr_string("divrec_kind", kArtifactKind);
    f.set_attr_int("divrec_format_version", a.format_version);
    f.set_attr_uint32("checksum_crc32", a.checksum);
    f.set_attr_string("model_config", model::to_ini(a.config));
    f.set_attr_string("objective", a.objective);
    f.set_attr_string("defaults", to_json(a.defaults).dump());
    f.set_attr_string("train_config", a.train_config);
    f.set_attr_string("source_checkpoint", a.source_checkpoint);
    f.set_attr_string("export_command", a.export_command);
    f.set_attr_string("ann_index", ann_ref_json(a.ann_index).dump());

    // Float matrices uncompressed: deflate saves ~7 % on them and costs most of a large
    // catalog's load time (a 10 M-item artifact is ~5 GB of floats).
    auto iv = a.item_vectors.contiguous();
    f.write_array("item_vectors", iv.data_ptr<float>(), dims_of(iv), h5::Storage::kContiguous);

    auto w = f.create_group("weights");
    std::string names;
    for (const auto& n : a.weight_names) names += (names.empty() ? "" : "\n") + n;
    w.set_attr_string("names", names);
    for (size_t i = 0; i < a.weights.size(); ++i) {
      w.write_array(a.weight_names[i], a.weights[i].data_ptr<float>(), dims_of(a.weights[i]),
                    h5::Storage::kContiguous);
    }

    const auto& t = a.items;
    auto g = f.create_group("items");
    g.set_attr_int("num_items", t.num_items);
    g.set_attr_int("num_categories", t.num_categories);
    g.set_attr_int("num_attributes", t.num_attributes);
    g.set_attr_int("content_dim", t.content_dim);
    g.set_attr_string("content_model", t.content_model);
    if (!t.content_encoder.empty()) g.set_attr_string("content_encoder", t.content_encoder);
    h5::write_vector(g, "category", t.category);
    h5::write_vector(g, "attr_offsets", t.attr_offsets);
    h5::write_vector(g, "attr_ids", t.attr_ids);
    h5::write_vector(g, "popularity", t.popularity);
    if (t.content_dim > 0) {
      const std::vector<hsize_t> dims = {static_cast<hsize_t>(t.num_items),
                                         static_cast<hsize_t>(t.content_dim)};
      if (t.content_bits.empty()) {
        data::write_content_array(g, "content", t.content, dims, t.content_dtype);
      } else {
        data::write_content_bits(g, "content", t.content_bits, dims, t.content_dtype);
      }
      if (!t.has_content.empty()) h5::write_vector(g, "has_content", t.has_content);
    }
    if (t.text_vocab > 0) {
      g.set_attr_int("text_vocab", t.text_vocab);
      h5::write_vector(g, "text_offsets", t.text_offsets);
      h5::write_vector(g, "text_ids", t.text_ids);
      // The tokenizer that made the ids: `append-items` tokenizes new items' text with it.
      g.set_attr_int("text_max_tokens", t.text_max_tokens);
      h5::write_vector(g, "text_tokenizer",
                       std::vector<uint8_t>(t.text_tokenizer.begin(), t.text_tokenizer.end()));
    }
    g.write_short_strings("raw_ids", t.raw_ids);  // fixed-length when short: fast to load
    g.write_strings("category_names", t.category_names);
    g.write_strings("attribute_names", t.attribute_names);
    write_fairness(f, a.fairness);
    f.close();
    core::commit_file(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

namespace {

constexpr const char* kReadHint = "export the model with this build's `divrec export`";

// Opens a serving artifact of this format version (kind and version checked, errors name it).
h5::File open_artifact(const std::string& path, h5::Sealed sealed) {
  // Named as what it is here (h5::File::open's own message is about dataset files).
  DIVREC_CHECK_HINT(std::filesystem::exists(path),
                    "pass the .h5 file that `divrec export` wrote (--model)", "serving artifact '",
                    path, "': no such file");
  // Every artifact starts with the divrec checksum header (h5_seal.h); dataset files such as
  // items.h5 (checksummed per array instead) do not: say what was expected.
  DIVREC_CHECK_HINT(sealed == h5::Sealed::kNo || h5::has_seal_header(path),
                    "pass the .h5 file that `divrec export` wrote (--model)", "serving artifact '",
                    path,
                    "': not a file `divrec export` wrote (no divrec checksum header; dataset "
                    "files such as items.h5 are not artifacts)");
  auto f = h5::File::open(path, sealed);
  DIVREC_CHECK_HINT(f.has_attr("divrec_kind") && f.has_attr("divrec_format_version"), kReadHint,
                    "'", path,
                    "' is an HDF5 file but not a divrec serving artifact (no divrec_kind / "
                    "divrec_format_version attributes)");
  const std::string kind = f.attr_string("divrec_kind");
  DIVREC_CHECK_HINT(kind == kArtifactKind, kReadHint, "'", path, "' is a divrec '", kind,
                    "' file, not a serving artifact ('", kArtifactKind, "')");
  const int64_t version = f.attr_int("divrec_format_version");
  DIVREC_CHECK_HINT(version == kArtifactFormatVersion, kReadHint, "serving artifact '", path,
                    "' has format version ", version, "; this build reads version ",
                    kArtifactFormatVersion);
  return f;
}

}  // namespace

std::string read_content_encoder(const std::string& path) {
  auto f = open_artifact(path, h5::Sealed::kNo);  // attributes only: no whole-file checksum
  auto g = f.open_group("items");
  return g.has_attr("content_encoder") ? g.attr_string("content_encoder") : "";
}

Artifact read_artifact(const std::string& path) {
  const std::string hint = kReadHint;
  // Whole-file checksum first (h5_seal.h), then clear errors for truncated / non-HDF5 files.
  auto f = open_artifact(path, h5::Sealed::kYes);
  Artifact a;
  a.format_version = f.attr_int("divrec_format_version");
  a.config = model::from_ini(f.attr_string("model_config"));
  a.objective = f.attr_string("objective");
  try {
    auto j = nlohmann::json::parse(f.attr_string("defaults"));
    apply_json(j, a.defaults, "defaults");
    validate(a.defaults);
  } catch (const std::exception& e) {
    DIVREC_FAIL("serving artifact '", path, "': bad default settings: ", message_of(e));
  }
  a.train_config = f.attr_string("train_config");
  a.source_checkpoint = f.attr_string("source_checkpoint");
  a.export_command = f.attr_string("export_command");
  if (f.has_attr("ann_index")) a.ann_index = ann_ref_from(f.attr_string("ann_index"), path);
  const auto stored = static_cast<uint32_t>(f.attr_int("checksum_crc32"));

  auto& t = a.items;
  auto g = f.open_group("items");
  t.num_items = g.attr_int("num_items");
  t.num_categories = g.attr_int("num_categories");
  t.num_attributes = g.attr_int("num_attributes");
  t.content_dim = g.attr_int("content_dim");
  t.content_model = g.attr_string("content_model");
  if (g.has_attr("content_encoder")) t.content_encoder = g.attr_string("content_encoder");
  DIVREC_CHECK_HINT(
      t.num_items > 0 && t.num_categories >= 0 && t.num_attributes >= 0 && t.content_dim >= 0, hint,
      "serving artifact '", path, "': bad catalog sizes in /items");
  const auto n = static_cast<size_t>(t.num_items);
  t.category = read_1d<int32_t>(g, "category", n);
  t.attr_offsets = read_1d<int64_t>(g, "attr_offsets", n + 1);
  t.attr_ids = h5::read_vector<int32_t>(g, "attr_ids");
  t.popularity = read_1d<int64_t>(g, "popularity", n);
  if (t.content_dim > 0) {
    std::vector<hsize_t> d;
    // fp16/bf16 content stays 16-bit (content_bits): no fp32 copy of a catalog's vectors.
    t.content = data::read_content_array(g, "content", &d, &t.content_dtype, &t.content_bits);
    DIVREC_CHECK_HINT(d == std::vector<hsize_t>({n, static_cast<hsize_t>(t.content_dim)}), hint,
                      g.where("content"), " has shape ", shape_str(d), ", expected [", n, ", ",
                      t.content_dim, "]");
    // Absent: every item has its vector (artifacts written before has_content existed).
    if (g.has("has_content")) t.has_content = read_1d<uint8_t>(g, "has_content", n);
  }
  t.text_vocab = g.has_attr("text_vocab") ? g.attr_int("text_vocab") : 0;
  if (t.text_vocab > 0) {
    t.text_offsets = read_1d<int64_t>(g, "text_offsets", n + 1);
    t.text_ids = h5::read_vector<int32_t>(g, "text_ids");
    // Artifacts exported before the tokenizer was stored have none: their new items get no text.
    if (g.has("text_tokenizer")) {
      const auto bytes = h5::read_vector<uint8_t>(g, "text_tokenizer");
      t.text_tokenizer.assign(bytes.begin(), bytes.end());
    }
    t.text_max_tokens =
        g.has_attr("text_max_tokens") ? g.attr_int("text_max_tokens") : t.longest_text();
  }
  t.raw_ids = g.read_strings("raw_ids");
  t.category_names = g.read_strings("category_names");
  t.attribute_names = g.read_strings("attribute_names");

  std::vector<hsize_t> d;
  a.item_vectors = read_float_tensor(f, "item_vectors", &d);
  DIVREC_CHECK_HINT(d.size() == 2, hint, f.where("item_vectors"), " has shape ", shape_str(d),
                    ", expected [items, dim]");

  auto w = f.open_group("weights");
  std::string names = w.attr_string("names");
  size_t start = 0;
  while (start <= names.size() && !names.empty()) {
    size_t end = names.find('\n', start);
    if (end == std::string::npos) end = names.size();
    a.weight_names.push_back(names.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& name : a.weight_names) a.weights.push_back(read_float_tensor(w, name, &d));

  a.fairness = read_fairness(f, t.num_items, path);
  check_consistent(a, path);
  const uint32_t computed = artifact_checksum(a);
  DIVREC_CHECK_HINT(
      computed == stored, "the file was corrupted or modified after export; re-export it",
      "serving artifact '", path, "': checksum mismatch (stored ", fmt::format("{:#010x}", stored),
      ", computed ", fmt::format("{:#010x}", computed), ")");
  a.checksum = stored;
  return a;
}

}  // namespace divrec::serving
