// The NCCL backend for real under mpirun -n 2 (one GPU each, or both on one GPU), or as one
// plain process (local control plane: tests/gpu/run.sh on a one-GPU machine). CUDA tensors are
// reduced and exchanged in place when LibTorch has CUDA. Skips with a message when no GPU is
// visible: the backend still compiles and links everywhere.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>

#include "common/alltoallv_pattern.h"
#include "common/mpi_gtest.h"

#include "core/comm/mpi_comm.h"
#include "core/comm/nccl_comm.h"
#include "core/comm/typed.h"

using namespace divrec::core;

static std::shared_ptr<Communicator> g_mpi;  // the control plane: MPI, or local

TEST(NcclComm, ReductionsBroadcastAllgather) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU visible: NCCL tests skipped";
  NcclCommunicator c(g_mpi);
  int W = c.world(), r = c.rank();
  std::vector<float> v(1000, static_cast<float>(r + 1));
  allreduce(c, v, ReduceOp::kSum);
  for (float x : v) EXPECT_FLOAT_EQ(x, W * (W + 1) / 2.0f);
  std::vector<int64_t> m = {r + 5};
  allreduce(c, m, ReduceOp::kMax);
  EXPECT_EQ(m[0], W + 4);
  std::vector<double> b(3, r == 1 ? 2.5 : 0.0);
  c.broadcast(b.data(), b.size(), DType::kFloat64, 1 % W);
  if (W > 1) {
    for (double x : b) EXPECT_DOUBLE_EQ(x, 2.5);
  }
  int32_t mine = r * 3;
  std::vector<int32_t> all(W);
  c.allgather(&mine, all.data(), 1, DType::kInt32);
  for (int i = 0; i < W; ++i) EXPECT_EQ(all[i], i * 3);
  auto t = torch::ones({17}, torch::kFloat32);
  c.allreduce(t, ReduceOp::kSum);
  EXPECT_TRUE(torch::allclose(t, torch::full({17}, static_cast<float>(W))));
}

// Host buffers and CPU tensors go through the MPI control plane (a CPU LibTorch has no CUDA
// tensors to send with ncclSend/ncclRecv).
TEST(NcclComm, AlltoallvHostBuffersAndCpuTensors) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU visible: NCCL tests skipped";
  NcclCommunicator c(g_mpi);
  divrec::testing::a2a::host_exchange_every_dtype(c);
  divrec::testing::a2a::tensor_exchange(c);
  divrec::testing::a2a::tensor_allgatherv(c);
}

// CUDA tensors: all-reduce, broadcast and the ncclSend/ncclRecv all-to-all-v in place.
TEST(NcclComm, CudaTensorsInPlace) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU visible: NCCL tests skipped";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "a CPU-only LibTorch has no CUDA tensors";
  NcclCommunicator c(g_mpi);
  const int W = c.world();
  const torch::Device gpu(torch::kCUDA, c.device());
  auto t = torch::arange(1000, torch::TensorOptions().dtype(torch::kFloat32).device(gpu)) +
           static_cast<float>(c.rank());
  c.allreduce(t, ReduceOp::kSum);
  auto want = torch::arange(1000, torch::kFloat32) * W + static_cast<float>(W * (W - 1) / 2);
  EXPECT_TRUE(torch::equal(t.to(torch::kCPU), want));
  auto b = torch::full({5}, static_cast<double>(c.rank() + 7),
                       torch::TensorOptions().dtype(torch::kFloat64).device(gpu));
  c.broadcast(b, 0);
  EXPECT_TRUE(torch::equal(b.to(torch::kCPU), torch::full({5}, 7.0, torch::kFloat64)));
  divrec::testing::a2a::tensor_exchange(c, divrec::testing::a2a::uneven_count, gpu);
  divrec::testing::a2a::tensor_allgatherv(c, divrec::testing::a2a::uneven_count, gpu);
  // Rank 0 contributes nothing (at world 1: an empty NCCL group), the others 2 rows each.
  divrec::testing::a2a::tensor_allgatherv(
      c, [](int s, int) { return size_t{s == 0 ? 0u : 2u}; }, gpu);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK");
  if (launched) {
    g_mpi = std::make_shared<MpiCommunicator>(&argc, &argv);
  } else {
    g_mpi = std::make_shared<LocalCommunicator>();
  }
  int worst = divrec::testing::run_all_tests_on_ranks(*g_mpi);
  g_mpi.reset();
  return worst;
}
