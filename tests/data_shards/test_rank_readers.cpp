// Ranks as threads (fake communicator): concurrent readers are safe, per-rank readers partition
// the users, and the ranks' sampler batches gathered together equal one rank's double batch.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/fake_comm.h"
#include "core/comm/typed.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/sampler.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;

TEST(RankReaders, ThreadsReadConcurrentlyAndPartitionUsers) {
  SyntheticOptions so;
  so.users = 300;
  so.items = 150;
  so.categories = 5;
  WriteOptions o;
  o.output_dir = divrec::testing::scratch_dir("rank_readers") + "/ds";
  o.num_shards = 3;
  write_dataset(convert_synthetic(so), o);
  const UserSequences all = read_all_users(o.output_dir);
  const int64_t B = 7;
  EpochSampler one(all.num_users(), 2 * B, 0, 1, 5);

  divrec::testing::run_ranks(2, [&](divrec::testing::FakeCommunicator& comm) {
    UserSequences mine = read_users_for_rank(o.output_dir, comm.rank(), comm.world());
    UserSequences everyone = read_all_users(o.output_dir);  // concurrently with the other rank
    EXPECT_EQ(everyone.items, all.items);
    auto ids = divrec::core::allgatherv(comm, mine.user_ids);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, all.user_ids);
    for (int64_t k = 0; k < mine.num_users(); ++k) {  // same sequence as in the full read
      int64_t u = mine.user_ids[static_cast<size_t>(k)];
      EXPECT_EQ(mine.length(k), all.length(u));
      EXPECT_TRUE(std::equal(mine.seq(k), mine.seq(k) + mine.length(k), all.seq(u)));
    }
    EpochSampler s(everyone.num_users(), B, comm.rank(), comm.world(), 5);
    ASSERT_EQ(s.batches_per_epoch(), one.batches_per_epoch());
    for (int64_t b = 0; b < s.batches_per_epoch(); ++b) {
      auto gathered = divrec::core::allgatherv(comm, s.batch(1, b));  // rank order
      EXPECT_EQ(gathered, one.batch(1, b));
    }
  });
}
