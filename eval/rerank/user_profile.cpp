// The history category distribution: sort the history's categories and count runs, in place in
// this object's buffers (no allocation once they have grown).
#include "eval/rerank/user_profile.h"

#include <algorithm>

#include "core/check.h"

namespace divrec::eval {

void CategoryDistribution::compute(const int32_t* items, int64_t n, const data::ItemTable& table) {
  categories.clear();
  probs.clear();
  if (table.category.empty()) return;
  for (int64_t i = 0; i < n; ++i) {
    int32_t item = items[i];
    DIVREC_CHECK(item >= 0 && item < table.num_items, "history item ", item, " at position ", i,
                 " is outside [0, ", table.num_items, ")");
    int32_t c = table.category[static_cast<size_t>(item)];
    if (c >= 0) categories.push_back(c);
  }
  if (categories.empty()) return;
  std::sort(categories.begin(), categories.end());
  const double total = static_cast<double>(categories.size());
  size_t out = 0;
  for (size_t i = 0; i < categories.size();) {
    size_t j = i;
    while (j < categories.size() && categories[j] == categories[i]) ++j;
    categories[out] = categories[i];
    probs.push_back(static_cast<double>(j - i) / total);
    ++out;
    i = j;
  }
  categories.resize(out);
}

int CategoryDistribution::find(int32_t category) const {
  auto it = std::lower_bound(categories.begin(), categories.end(), category);
  if (it == categories.end() || *it != category) return -1;
  return static_cast<int>(it - categories.begin());
}

double CategoryDistribution::prob(int32_t category) const {
  int j = find(category);
  return j < 0 ? 0.0 : probs[static_cast<size_t>(j)];
}

}  // namespace divrec::eval
