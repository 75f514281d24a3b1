// Block ownership of users and the block reader (see user_blocks.h).
#include "eval/user_blocks.h"

#include "core/check.h"
#include "data_shards/reader.h"

namespace divrec::eval {

data::UserSequences read_user_blocks(const std::string& dir, int rank, int world, int64_t block) {
  DIVREC_CHECK(world >= 1 && rank >= 0 && rank < world, "bad rank ", rank, " of world ", world);
  DIVREC_CHECK(block > 0, "user block size must be positive, got ", block);
  return data::read_users_where(dir,
                                [&](int64_t id) { return block_owner(id, block, world) == rank; });
}

}  // namespace divrec::eval
