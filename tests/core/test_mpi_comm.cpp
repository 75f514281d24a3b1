// The MPI backend for real, under mpirun -n 2 and -n 3: sum/min/max for every dtype, broadcast,
// allgather, allgatherv with unequal sizes, tensors. Golden values are closed forms in rank.
#include <gtest/gtest.h>

#include "common/mpi_gtest.h"

#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"

using namespace divrec::core;

static MpiCommunicator* g_comm = nullptr;

template <typename T>
void check_reductions() {
  auto& c = *g_comm;
  int W = c.world(), r = c.rank();
  std::vector<T> v = {static_cast<T>(r + 1), static_cast<T>(2 * r)};
  allreduce(c, v, ReduceOp::kSum);
  EXPECT_EQ(v[0], static_cast<T>(W * (W + 1) / 2));
  EXPECT_EQ(v[1], static_cast<T>(W * (W - 1)));
  EXPECT_EQ(allreduce_scalar<T>(c, static_cast<T>(r + 3), ReduceOp::kMin), static_cast<T>(3));
  EXPECT_EQ(allreduce_scalar<T>(c, static_cast<T>(r + 3), ReduceOp::kMax), static_cast<T>(W + 2));
}

TEST(MpiComm, ReductionsEveryDtype) {
  check_reductions<float>();
  check_reductions<double>();
  check_reductions<int32_t>();
  check_reductions<int64_t>();
  check_reductions<uint8_t>();
}

TEST(MpiComm, BroadcastFromEveryRoot) {
  auto& c = *g_comm;
  for (int root = 0; root < c.world(); ++root) {
    std::vector<int64_t> v(5, c.rank() == root ? 100 + root : -1);
    c.broadcast(v.data(), v.size(), DType::kInt64, root);
    for (auto x : v) EXPECT_EQ(x, 100 + root);
  }
}

TEST(MpiComm, AllgatherAndAllgathervUnequal) {
  auto& c = *g_comm;
  int64_t mine = c.rank() * 7;
  std::vector<int64_t> all(c.world());
  c.allgather(&mine, all.data(), 1, DType::kInt64);
  for (int r = 0; r < c.world(); ++r) EXPECT_EQ(all[r], r * 7);
  // rank r contributes r+1 copies of r (rank 0 one, rank 1 two, ...), including empty-ish sizes
  std::vector<double> part(c.rank() + 1, c.rank() + 0.5);
  auto got = allgatherv(c, part);
  size_t pos = 0;
  for (int r = 0; r < c.world(); ++r) {
    for (int i = 0; i <= r; ++i) EXPECT_DOUBLE_EQ(got[pos++], r + 0.5);
  }
  EXPECT_EQ(pos, got.size());
  std::vector<float> empty;  // a rank with nothing to send
  if (c.rank() == 0) empty = {1.f, 2.f};
  auto g2 = allgatherv(c, empty);
  EXPECT_EQ(g2, (std::vector<float>{1.f, 2.f}));
}

TEST(MpiComm, TensorAllreduceAndBroadcast) {
  auto& c = *g_comm;
  auto t = torch::arange(6, torch::kFloat32) * (c.rank() + 1);
  c.allreduce(t, ReduceOp::kSum);
  float f = c.world() * (c.world() + 1) / 2.0f;
  EXPECT_TRUE(torch::allclose(t, torch::arange(6, torch::kFloat32) * f));
  auto b = c.rank() == 0 ? torch::ones({3}, torch::kFloat64) : torch::zeros({3}, torch::kFloat64);
  c.broadcast(b, 0);
  EXPECT_TRUE(torch::allclose(b, torch::ones({3}, torch::kFloat64)));
  std::string s = c.rank() == 0 ? "config text" : "";
  broadcast_string(c, s, 0);
  EXPECT_EQ(s, "config text");
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  int worst = divrec::testing::run_all_tests_on_ranks(comm);
  return worst;
}
