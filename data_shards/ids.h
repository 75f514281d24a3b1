// Deterministic id decisions: which shard a user lives in (FNV-1a 64 of the raw id, mod N) and
// the order in which raw ids get dense ids (numeric order when every raw id is an integer, byte
// order otherwise), so the same input always gives the same dense ids and shard files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace divrec::data {

uint64_t fnv1a64(std::string_view s);
int shard_of(std::string_view raw_user_id, int num_shards);

// Parses an optional '-' and decimal digits that fit in int64; false otherwise.
bool parse_int64(std::string_view s, int64_t* out);

// The indices in `subset` (into `names`) sorted by their names: by integer value when all of
// those names are integers (ties, e.g. "7" and "07", by bytes), else by bytes.
std::vector<int32_t> sorted_by_name(const std::vector<std::string>& names,
                                    const std::vector<int32_t>& subset);

}  // namespace divrec::data
