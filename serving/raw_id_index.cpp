// RawIdIndex (see raw_id_index.h): std::hash over string views, linear probing, load <= 1/2.
#include "serving/raw_id_index.h"

#include <functional>
#include <limits>

#include "core/check.h"

namespace divrec::serving {

RawIdIndex::RawIdIndex(const std::vector<std::string>* ids, const std::string& where) : ids_(ids) {
  const size_t n = ids->size();
  DIVREC_CHECK(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), where, ": ", n,
               " item ids exceed the int32 dense-id range");
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  slots_.assign(cap, -1);
  mask_ = cap - 1;
  const std::hash<std::string_view> hash;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view key = (*ids)[i];
    for (uint64_t s = hash(key) & mask_;; s = (s + 1) & mask_) {
      const int32_t at = slots_[s];
      if (at < 0) {
        slots_[s] = static_cast<int32_t>(i);
        break;
      }
      DIVREC_CHECK((*ids)[at] != key, where, ": raw item id '", key, "' appears twice (dense ids ",
                   at, " and ", i, ")");
    }
  }
}

int32_t RawIdIndex::find(std::string_view raw) const {
  if (slots_.empty()) return -1;
  for (uint64_t s = std::hash<std::string_view>()(raw) & mask_;; s = (s + 1) & mask_) {
    const int32_t at = slots_[s];
    if (at < 0) return -1;
    if ((*ids_)[at] == raw) return at;
  }
}

}  // namespace divrec::serving
