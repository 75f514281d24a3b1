// --dump-lists: every evaluated user's final list as one JSON line ({"user", "history", "items",
// "scores", "reasons"}, raw ids), gathered to rank 0 in blocks of users (bounded memory, no shared
// file system needed) and written atomically, sorted by dense user id. The serving consistency
// test replays these histories through the serving path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "data_shards/dataset.h"
#include "eval/rerank/reranker.h"

namespace divrec::eval {

struct DumpLine {
  int64_t user = 0;  // dense user id (the sort key)
  std::string json;  // one line, no trailing newline
};

// {"user": raw user id, "history": [raw ids of every history item, time order], "items": [raw
// ids], "scores": [relevance score of each listed item], "reasons": [reason names]}.
// The history is the whole prefix before the split's targets: the model saw its last max_len
// items and every one of them was masked from the candidates.
std::string list_json_line(const std::string& raw_user, const int32_t* history,
                           int64_t history_size, const RerankResult& list,
                           const data::ItemTable& items);

// Collective. `mine` holds this rank's lines in any order; every user id is < num_users. Rank 0
// writes the union sorted by user id to `path` (temp file + fsync + rename).
void write_dump_lists(const std::string& path, std::vector<DumpLine> mine, int64_t num_users,
                      core::Communicator& comm, int64_t users_per_round = 65536);

}  // namespace divrec::eval
