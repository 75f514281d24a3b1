// Raw item id -> dense id for serving: an open-addressing hash table of int32 slots that point
// into the artifact's raw-id strings (no copy of the strings, no per-entry allocation: 128 MiB and
// about a second for 10 M ids, where std::unordered_map<std::string, int32_t> took ~0.7 GB and
// 5-10 s of the load).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace divrec::serving {

class RawIdIndex {
 public:
  RawIdIndex() = default;
  // Indexes ids[i] -> i. `ids` must outlive the index and not change. Throws divrec::Error
  // naming `where` and the id when an id appears twice, or when there are more than 2^31 - 1.
  RawIdIndex(const std::vector<std::string>* ids, const std::string& where);

  // The dense id of `raw`, or -1 when unknown.
  int32_t find(std::string_view raw) const;
  size_t size() const { return ids_ ? ids_->size() : 0; }
  size_t bytes() const { return slots_.size() * sizeof(int32_t); }

 private:
  const std::vector<std::string>* ids_ = nullptr;
  std::vector<int32_t> slots_;  // power of two >= 2 x ids; -1 = empty; linear probing
  uint64_t mask_ = 0;
};

}  // namespace divrec::serving
