// Interner (see raw_dataset.h).
#include "data_shards/raw_dataset.h"

#include "core/check.h"

namespace divrec::data {

int32_t Interner::intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  DIVREC_CHECK(names_.size() < static_cast<size_t>(INT32_MAX), "more than 2^31 distinct ids");
  names_.emplace_back(s);
  auto id = static_cast<int32_t>(names_.size() - 1);
  index_.emplace(names_.back(), id);
  return id;
}

int32_t Interner::find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace divrec::data
