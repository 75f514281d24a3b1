// Category derivation shared by converters whose sources only have attribute lists (see
// converters.h: assign_least_frequent_attribute_category).
#include <algorithm>

#include "data_shards/convert/converters.h"
#include "data_shards/ids.h"

namespace divrec::data {

void assign_least_frequent_attribute_category(RawDataset* raw) {
  const auto num_attrs = static_cast<size_t>(raw->attributes.size());
  // Distinct (item, attribute) pairs, so an attribute listed twice for one item counts once.
  std::vector<std::pair<int32_t, int32_t>> pairs(raw->attr_item.size());
  for (size_t k = 0; k < pairs.size(); ++k) pairs[k] = {raw->attr_item[k], raw->attr_id[k]};
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<int64_t> freq(num_attrs, 0);
  for (const auto& p : pairs) ++freq[static_cast<size_t>(p.second)];
  // rank[a]: position of attribute a in name order, the tie-break.
  std::vector<int32_t> all(num_attrs);
  for (size_t a = 0; a < num_attrs; ++a) all[a] = static_cast<int32_t>(a);
  auto order = sorted_by_name(raw->attributes.names(), all);
  std::vector<int32_t> rank(num_attrs);
  for (size_t r = 0; r < order.size(); ++r)
    rank[static_cast<size_t>(order[r])] = static_cast<int32_t>(r);

  std::vector<int32_t> best(static_cast<size_t>(raw->items.size()), -1);
  for (const auto& [item, a] : pairs) {
    int32_t& b = best[static_cast<size_t>(item)];
    auto sa = static_cast<size_t>(a);
    if (b < 0 || freq[sa] < freq[static_cast<size_t>(b)] ||
        (freq[sa] == freq[static_cast<size_t>(b)] && rank[sa] < rank[static_cast<size_t>(b)])) {
      b = a;
    }
  }
  for (int32_t i = 0; i < raw->items.size(); ++i) {
    int32_t b = best[static_cast<size_t>(i)];
    if (b >= 0) raw->set_category(i, raw->categories.intern(raw->attributes.name(b)));
  }
  raw->category_method = "least-frequent-attribute";
}

}  // namespace divrec::data
