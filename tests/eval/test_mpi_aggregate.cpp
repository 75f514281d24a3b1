// Aggregation under mpirun -n 2 / -n 3: the fixed workload partitioned by rank (round-robin)
// through the MPI backend must equal, bit for bit, the single-rank result every rank computes
// locally over all users.
#include <gtest/gtest.h>

#include "common/mpi_gtest.h"

#include "agg_workload.h"
#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"

using namespace divrec;

static core::MpiCommunicator* g_comm = nullptr;

TEST(MpiAggregate, PartitionedEqualsSingleRank) {
  auto& c = *g_comm;
  eval::testutil::Workload w;
  eval::Workspace ws;
  eval::MetricScratch scratch;
  auto mine = w.suite->make_accumulator();
  auto all = w.suite->make_accumulator();
  for (int u = 0; u < eval::testutil::kWorkloadUsers; ++u) {
    if (u % c.world() == c.rank()) w.add_user(u, mine, ws, scratch);
    w.add_user(u, all, ws, scratch);
  }
  auto global = mine.finalize(c);
  core::LocalCommunicator local;
  auto single = all.finalize(local);
  ASSERT_EQ(global.size(), single.size());
  for (const auto& [k, v] : single) EXPECT_EQ(global.at(k), v) << k;
  EXPECT_EQ(global.at("users"), eval::testutil::kWorkloadUsers);
  EXPECT_EQ(mine.global_exposure(10), all.global_exposure(10));
}

TEST(MpiAggregate, RankWithoutUsers) {
  // Only rank 0 has users; the others contribute nothing yet agree on every key.
  auto& c = *g_comm;
  eval::testutil::Workload w;
  eval::Workspace ws;
  eval::MetricScratch scratch;
  auto acc = w.suite->make_accumulator();
  if (c.rank() == 0) {
    for (int u = 0; u < 10; ++u) w.add_user(u, acc, ws, scratch);
  }
  auto m = acc.finalize(c);
  EXPECT_EQ(m.at("users"), 10);
  EXPECT_GT(m.at("ndcg@20") + m.at("novelty@20"), 0.0);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  core::MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  return divrec::testing::run_all_tests_on_ranks(comm);
}
