// ShardingPlan: where each row of a per-item table lives (TorchRec's table-wise "replicated"
// vs row-wise sharding). Row-wise: row r lives on rank r mod W at local index r div W, so the
// popular low ids (and the Zipf head scattered over ids) spread over all ranks.
#pragma once

#include <cstdint>
#include <string>

#include "core/check.h"

namespace divrec::trainer {

enum class Sharding { kReplicated, kRow };

// "replicated" | "row"; anything else throws naming --embedding-sharding.
inline Sharding parse_sharding(const std::string& s) {
  if (s == "replicated") return Sharding::kReplicated;
  DIVREC_CHECK_HINT(s == "row", "use replicated or row", "--embedding-sharding '", s,
                    "' is unknown");
  return Sharding::kRow;
}
inline const char* sharding_name(Sharding s) {
  return s == Sharding::kRow ? "row" : "replicated";
}

struct ShardingPlan {
  Sharding kind = Sharding::kReplicated;
  int64_t num_rows = 0;
  int rank = 0;
  int world = 1;

  bool row_wise() const { return kind == Sharding::kRow && world > 1; }
  // Rows held by `r` (replicated: all of them).
  int64_t rows_on(int r) const {
    if (!row_wise()) return num_rows;
    return num_rows > r ? (num_rows - r + world - 1) / world : 0;
  }
  int64_t local_rows() const { return rows_on(rank); }
  int owner(int64_t row) const { return row_wise() ? static_cast<int>(row % world) : rank; }
  int64_t local_index(int64_t row) const { return row_wise() ? row / world : row; }
  int64_t global_row(int64_t local, int r) const { return row_wise() ? local * world + r : local; }
};

}  // namespace divrec::trainer
