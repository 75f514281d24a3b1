// Block ownership of users and the block reader (see user_blocks.h).
#include "eval/user_blocks.h"

#include <algorithm>
#include <numeric>

#include "core/check.h"
#include "data_shards/reader.h"

namespace divrec::eval {

data::UserSequences read_user_blocks(const std::string& dir, int rank, int world, int64_t block) {
  DIVREC_CHECK(world >= 1 && rank >= 0 && rank < world, "bad rank ", rank, " of world ", world);
  DIVREC_CHECK(block > 0, "user block size must be positive, got ", block);
  const data::Manifest m = data::read_manifest(dir);
  data::UserSequences mine;
  std::vector<int32_t> items;
  std::vector<int64_t> times;
  std::vector<int8_t> events;
  for (int s = 0; s < static_cast<int>(m.shards.size()); ++s) {
    const data::UserSequences shard = data::read_shards(dir, {s});
    for (int64_t u = 0; u < shard.num_users(); ++u) {
      if (block_owner(shard.user_ids[u], block, world) != rank) continue;
      const int64_t b = shard.offsets[u], e = shard.offsets[u + 1];
      items.assign(shard.items.begin() + b, shard.items.begin() + e);
      times.assign(shard.times.begin() + b, shard.times.begin() + e);
      events.assign(shard.events.begin() + b, shard.events.begin() + e);
      mine.append_user(shard.user_ids[u], items, times, events, shard.valid_start[u],
                       shard.test_start[u]);
    }
  }
  // Shards interleave users; the evaluator wants them in dense id order.
  std::vector<int64_t> order(static_cast<size_t>(mine.num_users()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return mine.user_ids[a] < mine.user_ids[b]; });
  if (std::is_sorted(order.begin(), order.end())) return mine;
  data::UserSequences sorted;
  for (int64_t u : order) {
    const int64_t b = mine.offsets[u], e = mine.offsets[u + 1];
    items.assign(mine.items.begin() + b, mine.items.begin() + e);
    times.assign(mine.times.begin() + b, mine.times.begin() + e);
    events.assign(mine.events.begin() + b, mine.events.begin() + e);
    sorted.append_user(mine.user_ids[u], items, times, events, mine.valid_start[u],
                       mine.test_start[u]);
  }
  return sorted;
}

}  // namespace divrec::eval
