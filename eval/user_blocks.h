// Which users a rank evaluates: blocks of `block` consecutive dense user ids, block g on rank
// g % world. The evaluator scores one block's users per model call, so every batch holds the same
// users in the same order whatever the number of ranks, and BLAS rounds every score identically:
// the report and the lists are bit-identical on 1, 2 or 3 ranks (with id % world ownership the
// batches, and so the last bits of the scores, would depend on the world size).
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
