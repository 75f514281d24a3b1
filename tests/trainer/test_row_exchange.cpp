// RowExchange and ShardedItemTable on the threaded fake communicator (W = 1..4): fetched rows
// are the table's rows, reduced gradients are the per-row sums over ranks (computed here by
// plain loops), row-wise and replicated tables give bit-identical gradients, the world-
// invariant init, gather_full, and ids on another device than the table refused.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "common/fake_comm.h"
#include "core/check.h"
#include "trainer/row_exchange.h"
#include "trainer/sharded_item_table.h"

using namespace divrec;
using divrec::testing::run_ranks;

namespace {

constexpr int64_t kRows = 23;
constexpr int64_t kDim = 3;

// Rank r touches rows {g : (g * (r + 2) + r) % 5 < 2} (different, overlapping sets).
torch::Tensor ids_of(int rank) {
  std::vector<int64_t> v;
  for (int64_t g = 0; g < kRows; ++g)
    if ((g * (rank + 2) + rank) % 5 < 2) v.push_back(g);
  return torch::tensor(v, torch::kInt64);
}
float table_value(int64_t g, int64_t d) { return static_cast<float>(g) * 10.0f + d; }
float grad_value(int rank, int64_t g, int64_t d) {
  return 0.25f * static_cast<float>(rank + 1) + static_cast<float>(g) * 0.01f + d;
}

}  // namespace

class RowExchangeTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(RowExchangeTest, FetchAndReduceMatchHandSums) {
  const auto [W, row_wise] = GetParam();
  // Expected sums over ranks (rank order) of every touched row, by plain loops.
  std::map<int64_t, std::vector<float>> expected;
  for (int r = 0; r < W; ++r) {
    auto ids = ids_of(r);
    for (int64_t k = 0; k < ids.numel(); ++k) {
      int64_t g = ids[k].item<int64_t>();
      auto& e = expected[g];
      e.resize(kDim, 0.0f);
      for (int64_t d = 0; d < kDim; ++d) e[d] += grad_value(r, g, d);
    }
  }
  run_ranks(W, [&](core::Communicator& comm) {
    trainer::ShardingPlan plan{row_wise ? trainer::Sharding::kRow : trainer::Sharding::kReplicated,
                               kRows, comm.rank(), comm.world()};
    trainer::RowExchange ex(plan, kDim, comm);
    auto local = torch::empty({plan.local_rows(), kDim});
    for (int64_t j = 0; j < plan.local_rows(); ++j)
      for (int64_t d = 0; d < kDim; ++d) local[j][d] = table_value(plan.global_row(j, comm.rank()), d);
    auto ids = ids_of(comm.rank());
    auto route = ex.route(ids);
    auto rows = ex.fetch(route, local);
    ASSERT_EQ(rows.size(0), ids.numel());
    for (int64_t k = 0; k < ids.numel(); ++k)
      for (int64_t d = 0; d < kDim; ++d)
        EXPECT_EQ(rows[k][d].item<float>(), table_value(ids[k].item<int64_t>(), d));
    auto grad = torch::empty({ids.numel(), kDim});
    for (int64_t k = 0; k < ids.numel(); ++k)
      for (int64_t d = 0; d < kDim; ++d) grad[k][d] = grad_value(comm.rank(), ids[k].item<int64_t>(), d);
    auto owned = ex.reduce_gradients(route, grad, 0.5);
    int64_t expect_n = 0;
    for (const auto& kv : expected) expect_n += plan.owner(kv.first) == comm.rank() ? 1 : 0;
    ASSERT_EQ(owned.local_rows.numel(), expect_n);
    for (int64_t k = 0; k < owned.local_rows.numel(); ++k) {
      int64_t g = plan.global_row(owned.local_rows[k].item<int64_t>(), comm.rank());
      ASSERT_TRUE(expected.count(g)) << g;
      for (int64_t d = 0; d < kDim; ++d)
        EXPECT_FLOAT_EQ(owned.grad[k][d].item<float>(), 0.5f * expected[g][d]) << g;
    }
    if (W > 1 && ids.numel() > 0) {
      EXPECT_GT(ex.stats().bytes_sent, 0);
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Worlds, RowExchangeTest,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4),
                                            ::testing::Values(false, true)));

TEST(ShardedItemTable, InitIsWorldInvariantAndGatherFullAssembles) {
  torch::Tensor reference;
  run_ranks(1, [&](core::Communicator& comm) {
    trainer::ShardedItemTable t({trainer::Sharding::kReplicated, 70000 + 13, 0, 1}, 4,
                                trainer::SparseOptimConfig{}, comm);
    t.init_trunc_normal(0.02, 99);
    reference = t.weight().clone();
  });
  EXPECT_LE(reference.abs().max().item<float>(), 0.04f + 1e-7f);  // truncated at 2 std
  EXPECT_GT(reference.std().item<float>(), 0.01f);
  for (int W : {2, 3}) {
    std::mutex m;
    run_ranks(W, [&](core::Communicator& comm) {
      trainer::ShardedItemTable t({trainer::Sharding::kRow, reference.size(0), comm.rank(), W}, 4,
                                  trainer::SparseOptimConfig{}, comm);
      t.init_trunc_normal(0.02, 99);
      auto mine = reference.index_select(0, torch::arange(comm.rank(), reference.size(0), W));
      auto full = t.gather_full();
      std::lock_guard<std::mutex> lock(m);
      EXPECT_TRUE(torch::equal(t.weight(), mine)) << "W " << W << " rank " << comm.rank();
      EXPECT_TRUE(torch::equal(full, reference)) << "W " << W;
    });
  }
}

TEST(ShardedItemTable, RowAndReplicatedStepsAreBitIdentical) {
  for (int W : {2, 3}) {
    std::vector<torch::Tensor> finals(2);
    for (int mode = 0; mode < 2; ++mode) {
      std::mutex m;
      run_ranks(W, [&](core::Communicator& comm) {
        trainer::ShardingPlan plan{mode ? trainer::Sharding::kRow : trainer::Sharding::kReplicated,
                                   kRows, comm.rank(), W};
        trainer::ShardedItemTable t(plan, kDim, trainer::SparseOptimConfig{}, comm);
        t.init_trunc_normal(0.1, 5);
        for (int step = 1; step <= 3; ++step) {
          auto rows = t.lookup(ids_of((comm.rank() + step) % 4));
          (rows * rows * static_cast<double>(step)).sum().backward();
          double sq = t.reduce_gradients(1.0 / W);
          EXPECT_GT(sq, 0.0);
          t.apply(0.01, 0.9, step);
        }
        auto full = t.gather_full();
        std::lock_guard<std::mutex> lock(m);
        if (comm.rank() == 0) finals[mode] = full.clone();
      });
    }
    EXPECT_TRUE(torch::equal(finals[0], finals[1])) << "W " << W;
  }
}

TEST(ShardedItemTable, IdsOnAnotherDeviceAreRefused) {
  core::LocalCommunicator local;
  trainer::ShardedItemTable t({trainer::Sharding::kReplicated, kRows, 0, 1}, kDim,
                              trainer::SparseOptimConfig{}, local);
  EXPECT_EQ(t.device(), torch::Device(torch::kCPU));
  // Meta tensors carry a device but no data: the check fires before anything is read.
  auto meta_ids =
      torch::empty({3}, torch::TensorOptions().dtype(torch::kInt64).device(torch::kMeta));
  try {
    t.lookup(meta_ids);
    ADD_FAILURE() << "ids on the meta device accepted";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ids are on meta"), std::string::npos) << e.what();
  }
}
