// csv converter: any delimited file with a column mapping (0-based indices or header names).
// Category: the category column when given, else the least frequent attribute when an
// attributes column is given, else none.
#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/text.h"
#include "data_shards/dataset.h"
#include "data_shards/ids.h"

namespace divrec::data {

namespace {

// Column spec -> index: digits are an index, anything else a header name.
int resolve_column(const std::string& option, const std::string& spec,
                   const std::vector<std::string>& header, const std::string& path) {
  if (spec.empty()) return -1;
  int64_t idx = -1;
  if (parse_int64(spec, &idx)) {
    DIVREC_CHECK_HINT(idx >= 0, "columns are 0-based", "--", option, ": bad column ", spec);
    return static_cast<int>(idx);
  }
  DIVREC_CHECK_HINT(!header.empty(), "pass --header when naming columns, or use 0-based indices",
                    "--", option, " '", spec, "' is a name but the file has no header");
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == spec) return static_cast<int>(i);
  }
  std::string names;
  for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
  DIVREC_FAIL("--", option, ": no column '", spec, "' in the header of ", path, " (", names, ")");
}

}  // namespace

RawDataset convert_csv(const CsvOptions& options) {
  DIVREC_CHECK_HINT(!options.user_col.empty() && !options.item_col.empty(),
                    "pass --user-col and --item-col", "csv: user and item columns are required");
  RawDataset raw;
  raw.source = "csv";
  raw.input = options.input;
  LineReader lines(options.input, "reading " + options.input);
  std::vector<std::string> f, header;
  std::vector<std::string_view> attrs;
  std::string_view line;
  if (options.header) {
    DIVREC_CHECK_HINT(lines.next(&line), "check --input", "csv: '", options.input,
                      "' is empty (no header line)");
    split_csv(line, options.delimiter, &header);
  }
  const int cu = resolve_column("user-col", options.user_col, header, options.input);
  const int ci = resolve_column("item-col", options.item_col, header, options.input);
  const int ct = resolve_column("time-col", options.time_col, header, options.input);
  const int cc = resolve_column("category-col", options.category_col, header, options.input);
  const int ca = resolve_column("attributes-col", options.attributes_col, header, options.input);
  const int needed = std::max({cu, ci, ct, cc, ca}) + 1;
  int64_t row = 0;
  while (lines.next(&line)) {
    if (trim(line).empty()) continue;
    split_csv(line, options.delimiter, &f);
    if (static_cast<int>(f.size()) < needed) {
      lines.fail("expected at least " + std::to_string(needed) + " fields separated by '" +
                     std::string(1, options.delimiter) + "', got " + std::to_string(f.size()),
                 line);
    }
    const auto& user = f[static_cast<size_t>(cu)];
    const auto& item_name = f[static_cast<size_t>(ci)];
    if (user.empty() || item_name.empty()) lines.fail("empty user or item", line);
    int64_t t = row++;  // file order when there is no time column
    if (ct >= 0) {
      double d = 0;
      const auto& ts = f[static_cast<size_t>(ct)];
      if (!parse_int64(ts, &t)) {
        if (!parse_double(ts, &d)) lines.fail("time is not a number", line);
        // Fractional seconds are truncated; beyond int64 (or NaN) the cast would be undefined.
        if (!(std::fabs(d) < 9.2e18)) lines.fail("time out of range", line);
        t = static_cast<int64_t>(d);
      }
    }
    int32_t before = raw.items.size();
    int32_t item = raw.items.intern(item_name);
    if (item >= before) {  // side info from the item's first line
      if (cc >= 0 && !f[static_cast<size_t>(cc)].empty()) {
        raw.set_category(item, raw.categories.intern(f[static_cast<size_t>(cc)]));
      }
      if (ca >= 0 && !f[static_cast<size_t>(ca)].empty()) {
        split(f[static_cast<size_t>(ca)], options.attr_delimiter, &attrs);
        for (auto a : attrs) {
          a = trim(a);
          if (!a.empty()) raw.add_attribute(item, raw.attributes.intern(a));
        }
      }
    }
    raw.add(raw.users.intern(user), item, t, static_cast<int8_t>(EventType::kView));
  }
  DIVREC_CHECK_HINT(raw.num_interactions() > 0, "check --input", "csv: '", options.input,
                    "' has no data lines");
  if (cc >= 0) {
    raw.category_method = "column:" + options.category_col;
  } else if (ca >= 0) {
    assign_least_frequent_attribute_category(&raw);
  } else {
    raw.category_method = "none";
  }
  return raw;
}

}  // namespace divrec::data
