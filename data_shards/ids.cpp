// Shard assignment and dense-id ordering (see ids.h).
#include "data_shards/ids.h"

#include <algorithm>
#include <charconv>

#include "core/check.h"

namespace divrec::data {

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV 64 prime
  }
  return h;
}

int shard_of(std::string_view raw_user_id, int num_shards) {
  DIVREC_CHECK(num_shards > 0, "num_shards must be positive, got ", num_shards);
  return static_cast<int>(fnv1a64(raw_user_id) % static_cast<uint64_t>(num_shards));
}

bool parse_int64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e;
}

std::vector<int32_t> sorted_by_name(const std::vector<std::string>& names,
                                    const std::vector<int32_t>& subset) {
  std::vector<int64_t> values(names.size(), 0);
  bool numeric = true;
  for (int32_t i : subset) {
    if (!parse_int64(names[static_cast<size_t>(i)], &values[static_cast<size_t>(i)])) {
      numeric = false;
      break;
    }
  }
  std::vector<int32_t> order = subset;
  if (numeric) {
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      auto va = values[static_cast<size_t>(a)], vb = values[static_cast<size_t>(b)];
      return va != vb ? va < vb : names[static_cast<size_t>(a)] < names[static_cast<size_t>(b)];
    });
  } else {
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return names[static_cast<size_t>(a)] < names[static_cast<size_t>(b)];
    });
  }
  return order;
}

}  // namespace divrec::data
