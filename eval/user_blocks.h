// Which users a rank evaluates: blocks of `block` consecutive dense user ids, block g on rank
// g % world. Every batch of the evaluator then holds the same users in the same order whatever
// the number of ranks, so the per-batch work split (re-ranking thread slots) and the dumped lists
// are the same on 1, 2 or 3 ranks. (Scores themselves do not depend on the batch:
// model::encode_history encodes one user per call and model::score_top_n's bits are
// batch-independent.)
#pragma once

#include <cstdint>
#include <string>

#include "data_shards/dataset.h"

namespace divrec::eval {

inline int64_t user_block(int64_t user_id, int64_t block) { return user_id / block; }
inline int block_owner(int64_t user_id, int64_t block, int world) {
  return static_cast<int>(user_block(user_id, block) % world);
}

// The users of this rank's blocks, sorted by dense id; streams the shards one at a time (memory:
// one shard plus the selection, like data::read_users_for_rank).
data::UserSequences read_user_blocks(const std::string& dir, int rank, int world, int64_t block);

}  // namespace divrec::eval
