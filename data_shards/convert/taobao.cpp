// taobao converter: Tianchi UserBehavior.csv (user,item,category,behavior,timestamp). The item's
// category is its primary category and its only attribute; behaviours map to event types and
// can be filtered with --behaviors.
#include <filesystem>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/text.h"
#include "data_shards/dataset.h"
#include "data_shards/ids.h"

namespace divrec::data {

namespace {

int behavior_index(std::string_view b) {
  if (b == "pv") return 0;
  if (b == "cart") return 1;
  if (b == "fav") return 2;
  if (b == "buy") return 3;
  return -1;
}

const EventType kBehaviorEvent[4] = {EventType::kView, EventType::kCart, EventType::kFav,
                                     EventType::kBuy};

}  // namespace

RawDataset convert_taobao(const TaobaoOptions& options) {
  std::string path = options.input;
  if (is_directory(path)) path = path_join(path, "UserBehavior.csv");
  bool keep[4] = {options.behaviors.empty(), options.behaviors.empty(), options.behaviors.empty(),
                  options.behaviors.empty()};
  for (const auto& b : options.behaviors) {
    int k = behavior_index(b);
    DIVREC_CHECK_HINT(k >= 0, "use a comma-separated subset of pv,cart,fav,buy",
                      "--behaviors: unknown behaviour '", b, "'");
    keep[k] = true;
  }
  RawDataset raw;
  raw.source = "taobao";
  raw.input = options.input;
  raw.category_method = "taobao-category";
  LineReader lines(path, "reading " + std::filesystem::path(path).filename().string());
  std::vector<std::string_view> f;
  std::string_view line;
  int64_t conflicts = 0;
  while (lines.next(&line)) {
    if (trim(line).empty()) continue;
    split(line, ',', &f);
    if (f.size() != 5)
      lines.fail("expected 5 fields 'user,item,category,behavior,timestamp'", line);
    int64_t t = 0;
    int k = behavior_index(trim(f[3]));
    if (k < 0) lines.fail("behavior must be pv, cart, fav or buy", line);
    if (!parse_int64(trim(f[4]), &t)) lines.fail("timestamp is not an integer", line);
    if (trim(f[0]).empty() || trim(f[1]).empty() || trim(f[2]).empty()) {
      lines.fail("empty user, item or category", line);
    }
    if (!keep[k]) continue;
    int32_t item_before = raw.items.size();
    int32_t item = raw.items.intern(trim(f[1]));
    int32_t cat = raw.categories.intern(trim(f[2]));
    if (item >= item_before) {  // first sighting fixes the item's category
      raw.set_category(item, cat);
      raw.add_attribute(item, raw.attributes.intern(trim(f[2])));
    } else if (raw.item_category[static_cast<size_t>(item)] != cat) {
      ++conflicts;
    }
    raw.add(raw.users.intern(trim(f[0])), item, t, static_cast<int8_t>(kBehaviorEvent[k]));
  }
  if (conflicts > 0) {
    core::log0(
        "taobao: {} lines gave an item a different category than its first line; the "
        "first category was kept",
        conflicts);
  }
  DIVREC_CHECK_HINT(raw.num_interactions() > 0, "check --input and --behaviors",
                    "taobao: no interactions kept from '", path, "'");
  return raw;
}

}  // namespace divrec::data
