// Interner and quantile_cut (see raw_dataset.h).
#include "data_shards/raw_dataset.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace divrec::data {

int32_t Interner::intern(std::string_view s) {
  catch_up();
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  auto id = add_new(s);
  index_.emplace(names_.back(), id);
  indexed_ = names_.size();
  return id;
}

int32_t Interner::add_new(std::string_view s) {
  DIVREC_CHECK(names_.size() < static_cast<size_t>(INT32_MAX), "more than 2^31 distinct ids");
  names_.emplace_back(s);
  return static_cast<int32_t>(names_.size() - 1);
}

void Interner::catch_up() const {
  for (; indexed_ < names_.size(); ++indexed_) {
    bool fresh = index_.emplace(names_[indexed_], static_cast<int32_t>(indexed_)).second;
    DIVREC_CHECK(fresh, "internal: Interner::add_new got the existing name '", names_[indexed_],
                 "'");
  }
}

int32_t Interner::find(std::string_view s) const {
  catch_up();
  auto it = index_.find(s);
  return it == index_.end() ? -1 : it->second;
}

int64_t quantile_cut(std::vector<int64_t> times, double frac) {
  const auto n = static_cast<int64_t>(times.size());
  auto k = n - static_cast<int64_t>(std::llround(frac * static_cast<double>(n)));
  if (k >= n) return *std::max_element(times.begin(), times.end()) + 1;  // nothing after it
  k = std::max<int64_t>(k, 0);
  std::nth_element(times.begin(), times.begin() + k, times.end());
  return times[static_cast<size_t>(k)];
}

}  // namespace divrec::data
