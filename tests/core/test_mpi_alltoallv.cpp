// MpiCommunicator::alltoallv for real, under mpirun -n 2 and -n 3: every dtype, the typed
// helpers and the tensor overload, on MPI_Alltoallv and on the chunked pairwise path (forced by
// a small max block), including ranks that would pick different paths on their own. Expected
// values are the closed forms of common/alltoallv_pattern.h. DIVREC_BIG_TESTS=1 adds a
// 10M-row x 64 float32 exchange (about 5 GiB of buffers in all).
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/alltoallv_pattern.h"
#include "common/mpi_gtest.h"
#include "core/check.h"
#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"

using namespace divrec::core;
using namespace divrec::testing::a2a;

static MpiCommunicator* g_comm = nullptr;

namespace {

// Sets the pairwise path's max block for one scope, then restores it.
class MaxBlock {
 public:
  explicit MaxBlock(size_t n) : saved_(g_comm->alltoallv_max_block()) {
    g_comm->set_alltoallv_max_block(n);
  }
  ~MaxBlock() { g_comm->set_alltoallv_max_block(saved_); }

 private:
  size_t saved_;
};

// Like uneven_count, but rank 0 sends the last rank 7 elements: over a max block of 3 for those
// two ranks only, while the others' blocks all fit.
size_t one_big_block(int s, int d) {
  return s == 0 && d == g_comm->world() - 1 ? 7 : uneven_count(s, d);
}

}  // namespace

TEST(MpiAlltoallv, EveryDtypeTypedAndTensor) {
  host_exchange_every_dtype(*g_comm);
  typed_exchange<int32_t>(*g_comm);
  tensor_exchange(*g_comm);
}

TEST(MpiAllgatherv, TensorRowsInRankOrder) { tensor_allgatherv(*g_comm); }

TEST(MpiAlltoallv, PairwisePathInSmallMessages) {
  MaxBlock small(2);  // blocks of 3 go as 2 + 1
  host_exchange_every_dtype(*g_comm);
  typed_exchange<int32_t>(*g_comm);
  tensor_exchange(*g_comm);  // rows of 6 elements: every non-empty block is chunked
}

TEST(MpiAlltoallv, RanksAgreeOnThePath) {
  MaxBlock small(3);
  host_exchange_every_dtype(*g_comm, one_big_block);
  tensor_exchange(*g_comm, one_big_block);
}

TEST(MpiAlltoallv, ZeroCountsAndBadArguments) {
  auto& c = *g_comm;
  std::vector<size_t> zeros(c.world(), 0);
  c.alltoallv(nullptr, zeros, nullptr, zeros, DType::kFloat64);
  std::vector<size_t> wrong(c.world() + 1, 0);
  EXPECT_THROW(c.alltoallv(nullptr, wrong, nullptr, zeros, DType::kFloat64), divrec::Error);
  EXPECT_THROW(c.alltoallv(nullptr, zeros, nullptr, wrong, DType::kFloat64), divrec::Error);
  EXPECT_THROW(c.set_alltoallv_max_block(0), divrec::Error);
  // Rank 0 sends its only block to rank 1: every other pair is empty.
  std::vector<size_t> send_counts(c.world(), 0), recv(c.world(), 0);
  if (c.rank() == 0) send_counts[1] = 4;
  if (c.rank() == 1) recv[0] = 4;
  std::vector<double> data = {0.5, 1.5, 2.5, 3.5};
  std::vector<double> got(c.rank() == 1 ? 4 : 0);
  c.alltoallv(c.rank() == 0 ? data.data() : nullptr, send_counts, got.data(), recv,
              DType::kFloat64);
  if (c.rank() == 1) {
    EXPECT_EQ(got, data);
  }
}

// 10M rows of 64 float32 from rank 0 to rank 1 (640M elements, 2.4 GiB: above the 2 GiB
// message cap, so it goes pairwise in chunks); rank 1 sends rank 0 one row back.
TEST(MpiAlltoallv, TenMillionRowsOf64Floats) {
  if (std::getenv("DIVREC_BIG_TESTS") == nullptr) {
    GTEST_SKIP() << "set DIVREC_BIG_TESTS=1 for the 10M-row exchange (needs ~5 GiB)";
  }
  auto& c = *g_comm;
  const int64_t rows = 10'000'000, dim = 64;
  std::vector<size_t> send_rows(c.world(), 0), recv_rows(c.world(), 0);
  if (c.rank() == 0) {
    send_rows[1] = rows;
    recv_rows[1] = 1;
  }
  if (c.rank() == 1) {
    send_rows[0] = 1;
    recv_rows[0] = rows;
  }
  // Row r holds 64 * (r mod 4096) + e in column e (exact in float32).
  auto pattern = [&](int64_t first, int64_t n) {
    auto r = torch::arange(first, first + n, torch::kInt64).remainder(4096).to(torch::kFloat32);
    return r.unsqueeze(1) * 64.0f + torch::arange(dim, torch::kFloat32);
  };
  torch::Tensor send = c.rank() == 0   ? pattern(0, rows)
                       : c.rank() == 1 ? torch::full({1, dim}, 7.0f)
                                       : torch::empty({0, dim});
  auto recv = torch::empty({static_cast<int64_t>(block_offsets(recv_rows).back()), dim});
  c.alltoallv(send, send_rows, recv, recv_rows);
  if (c.rank() == 0) {
    EXPECT_TRUE(torch::equal(recv, torch::full({1, dim}, 7.0f)));
  }
  if (c.rank() != 1) return;
  const int64_t step = 1'000'000;  // compare in slices: no second 2.4 GiB tensor
  for (int64_t first = 0; first < rows; first += step) {
    ASSERT_TRUE(torch::equal(recv.slice(0, first, first + step), pattern(first, step)))
        << "rows " << first << ".." << first + step;
  }
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  return divrec::testing::run_all_tests_on_ranks(comm);
}
