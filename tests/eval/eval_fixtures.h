// Small helpers for the eval tests: item tables from plain vectors, and the fixed 12-item input
// of tools/reference/metrics_reference.py (vectors, scores, categories, history).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::eval::testutil {

inline data::ItemTable make_table(const std::vector<int32_t>& category,
                                  const std::vector<std::vector<int32_t>>& attrs,
                                  int64_t num_categories, int64_t num_attributes,
                                  std::vector<int64_t> popularity = {}) {
  data::ItemTable t;
  t.num_items = static_cast<int64_t>(category.size());
  t.num_categories = num_categories;
  t.num_attributes = num_attributes;
  t.category = category;
  t.attr_offsets.assign(1, 0);
  for (size_t i = 0; i < category.size(); ++i) {
    if (i < attrs.size()) t.attr_ids.insert(t.attr_ids.end(), attrs[i].begin(), attrs[i].end());
    t.attr_offsets.push_back(static_cast<int64_t>(t.attr_ids.size()));
  }
  t.popularity = popularity.empty() ? std::vector<int64_t>(category.size(), 1) : popularity;
  return t;
}

// metrics_reference.py: I = 12, D = 8, v[i][d] = sin(1.1 i + 0.7 d + 0.3) + 0.2 cos(2.3 i d).
constexpr int kRefItems = 12;
constexpr int kRefDim = 8;
inline std::vector<float> reference_vectors() {
  std::vector<float> v(kRefItems * kRefDim);
  for (int i = 0; i < kRefItems; ++i) {
    for (int d = 0; d < kRefDim; ++d) {
      v[i * kRefDim + d] =
          static_cast<float>(std::sin(1.1 * i + 0.7 * d + 0.3) + 0.2 * std::cos(2.3 * i * d));
    }
  }
  return v;
}
// SCORES[i] = cos(0.9 i) - 0.03 i; candidates are items 0..11 in id order.
inline std::vector<float> reference_scores() {
  std::vector<float> s(kRefItems);
  for (int i = 0; i < kRefItems; ++i) s[i] = static_cast<float>(std::cos(0.9 * i) - 0.03 * i);
  return s;
}
inline std::vector<int32_t> reference_items() {
  std::vector<int32_t> items(kRefItems);
  for (int i = 0; i < kRefItems; ++i) items[i] = i;
  return items;
}
// CATEGORY[i] = i % 4, no attributes.
inline data::ItemTable reference_table() {
  std::vector<int32_t> cat(kRefItems);
  for (int i = 0; i < kRefItems; ++i) cat[i] = i % 4;
  return make_table(cat, {}, 4, 0);
}
// HISTORY = items 0, 0, 1, 2, 0.
inline std::vector<int32_t> reference_history() { return {0, 0, 1, 2, 0}; }

}  // namespace divrec::eval::testutil
