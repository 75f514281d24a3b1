// amazon-s3rec converter: the S3-Rec paper's Amazon files (NAME.txt one user per line in time
// order, NAME_item2attributes.json, optional NAME.abs_time.inter with unix times in the same
// order). Categories: each item's least frequent attribute (docs/data-format.md).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/text.h"
#include "data_shards/dataset.h"
#include "data_shards/ids.h"

namespace divrec::data {

namespace {

constexpr const char* kAttrSuffix = "_item2attributes.json";

// Finds NAME from the directory's NAME_item2attributes.json (exactly one).
std::string find_name(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string f = e.path().filename().string();
    const std::string suffix = kAttrSuffix;
    if (f.size() > suffix.size() &&
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(f.substr(0, f.size() - suffix.size()));
    }
  }
  DIVREC_CHECK_HINT(
      names.size() == 1, "--input must hold exactly one NAME.txt + NAME_item2attributes.json pair",
      "amazon-s3rec: found ", names.size(), " *", kAttrSuffix, " files in '", dir, "'");
  return names[0];
}

// Interns the map's items (first, in the file's key order) with their attributes; returns how
// many items it lists.
int32_t read_attributes(const std::string& path, RawDataset* raw) {
  std::ifstream in(path);
  DIVREC_CHECK_HINT(in.good(), "check --input", "cannot open '", path, "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    DIVREC_FAIL(path, ": not valid JSON: ", e.what());
  }
  DIVREC_CHECK_HINT(j.is_object(), "check the file", path,
                    ": expected a JSON object {\"item id\": [attribute ids]}");
  for (auto it = j.begin(); it != j.end(); ++it) {
    DIVREC_CHECK_HINT(it.value().is_array(), "check the file", path, ": item '", it.key(),
                      "': expected a list of attribute ids, got ", it.value().dump());
    int32_t item = raw->items.intern(it.key());
    for (const auto& a : it.value()) {
      std::string name;
      if (a.is_number_integer()) {
        name = std::to_string(a.get<int64_t>());
      } else if (a.is_string()) {
        name = a.get<std::string>();
      } else {
        DIVREC_FAIL(path, ": item '", it.key(), "': attribute ", a.dump(),
                    " is neither an integer nor a string");
      }
      raw->add_attribute(item, raw->attributes.intern(name));
    }
  }
  return raw->items.size();
}

}  // namespace

RawDataset convert_amazon_s3rec(const AmazonS3RecOptions& options) {
  std::string dir = options.input;
  if (!is_directory(dir)) dir = std::filesystem::path(dir).parent_path().string();
  DIVREC_CHECK_HINT(is_directory(dir),
                    "pass the directory with NAME.txt and "
                    "NAME_item2attributes.json",
                    "amazon-s3rec: no such directory '", options.input, "'");
  const std::string name = find_name(dir);
  const std::string txt = path_join(dir, name + ".txt");
  const std::string attr_path = path_join(dir, name + kAttrSuffix);
  const std::string time_path = path_join(dir, name + ".abs_time.inter");

  RawDataset raw;
  raw.source = "amazon-s3rec";
  raw.input = options.input;
  const int32_t num_mapped = read_attributes(attr_path, &raw);

  LineReader lines(txt, "reading " + name + ".txt");
  std::vector<std::string_view> f;
  std::vector<int64_t> first_line;  // per raw user: the line that introduced it
  std::string_view line;
  int64_t missing = 0;
  while (lines.next(&line)) {
    split_ws(line, &f);
    if (f.empty()) continue;  // blank line
    if (f.size() < 2) lines.fail("expected 'user item1 item2 ...'", line);
    int32_t before = raw.users.size();
    int32_t u = raw.users.intern(f[0]);
    if (u < before) {
      lines.fail("user '" + std::string(f[0]) + "' appears twice (first on line " +
                     std::to_string(first_line[static_cast<size_t>(u)]) +
                     "); this format has one line per user",
                 line);
    }
    first_line.push_back(lines.line_no());
    for (size_t k = 1; k < f.size(); ++k) {
      int32_t i = raw.items.intern(f[k]);
      if (i >= num_mapped) {
        if (!options.allow_missing_attributes) {
          lines.fail("item '" + std::string(f[k]) + "' is not in " + name + kAttrSuffix +
                         " (pass --allow-missing-attributes to accept such items without "
                         "attributes)",
                     line);
        }
        ++missing;
      }
      raw.add(u, i, static_cast<int64_t>(k - 1), static_cast<int8_t>(EventType::kView));
    }
  }
  DIVREC_CHECK_HINT(raw.num_interactions() > 0, "check --input", "amazon-s3rec: '", txt,
                    "' has no interactions");
  if (missing > 0) {
    core::log0("amazon-s3rec: {} interactions with items missing from the attribute map", missing);
  }

  // Absolute times: the k-th data line belongs to the k-th interaction of NAME.txt.
  if (std::filesystem::exists(time_path)) {
    LineReader tl(time_path, "reading " + name + ".abs_time.inter");
    size_t k = 0;
    while (tl.next(&line)) {
      split_ws(line, &f);
      if (f.empty()) continue;
      int64_t t = 0;
      if (f.size() != 3) tl.fail("expected 'user item timestamp'", line);
      if (!parse_int64(f[2], &t)) {
        if (tl.line_no() == 1) continue;  // the header "user_id item_id timestamp"
        tl.fail("timestamp is not an integer", line);
      }
      if (k >= raw.user.size()) tl.fail("more lines than interactions in " + txt, line);
      if (raw.users.name(raw.user[k]) != f[0] || raw.items.name(raw.item[k]) != f[1]) {
        tl.fail("does not match interaction " + std::to_string(k + 1) + " of " + txt + " (user '" +
                    raw.users.name(raw.user[k]) + "', item '" + raw.items.name(raw.item[k]) +
                    "'); both files must list the same interactions in the same order",
                line);
      }
      raw.time[k++] = t;
    }
    DIVREC_CHECK_HINT(k == raw.user.size(), "both files must come from the same conversion",
                      time_path, ": has ", k, " interactions, ", txt, " has ", raw.user.size(),
                      "; both files must list the same interactions");
  } else {
    core::log0("amazon-s3rec: no {}; using positions as times", time_path);
  }
  assign_least_frequent_attribute_category(&raw);
  return raw;
}

}  // namespace divrec::data
