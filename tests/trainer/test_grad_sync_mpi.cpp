// GradSync over real MPI (mpirun -n 2): ranks start from different random parameters, are
// made identical by broadcast_module, train on different data; after every finish_step the
// gradients are identical on all ranks and equal the average that rank 0 computes alone from
// every rank's data. Overlap on and off, several AdamW steps.
#include <gtest/gtest.h>

#include "common/mpi_gtest.h"

#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"
#include "trainer/grad_sync.h"
#include "trainer/tiny_net.h"

using namespace divrec;
using divrec::testing::TinyNet;

static core::MpiCommunicator* g_comm = nullptr;

namespace {

torch::Tensor flat(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> parts;
  for (const auto& t : ts) parts.push_back(t.reshape({-1}).to(torch::kFloat64));
  return torch::cat(parts);
}

// Every rank's copy of x, gathered: all rows must be bitwise equal.
void expect_same_on_all_ranks(const torch::Tensor& x, const char* what) {
  auto& c = *g_comm;
  auto mine = x.contiguous();
  auto all = torch::empty({c.world(), mine.numel()}, torch::kFloat64);
  c.allgather(mine.data_ptr(), all.data_ptr(), static_cast<size_t>(mine.numel()),
              core::DType::kFloat64);
  for (int r = 1; r < c.world(); ++r) EXPECT_TRUE(torch::equal(all[r], all[0])) << what;
}

void run(bool overlap) {
  auto& c = *g_comm;
  torch::manual_seed(1000 + c.rank());  // different random init per rank
  TinyNet net;
  trainer::broadcast_module(*net, c, 0);
  expect_same_on_all_ranks(flat(net->parameters()), "parameters after broadcast");
  trainer::GradSync sync(net->parameters(), {}, c, /*bucket_cap_bytes=*/128, overlap);
  ASSERT_GE(sync.buckets().size(), 3u);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(0.01));
  for (int step = 0; step < 3; ++step) {
    // Rank 0's reference: every rank's gradient from the (identical) current parameters.
    torch::Tensor want;
    if (c.rank() == 0) {
      for (int r = 0; r < c.world(); ++r) {
        TinyNet copy;
        divrec::testing::copy_net(*net, *copy);
        copy->loss(divrec::testing::tiny_ids(r, step), r == 1).backward();
        auto g = flat(divrec::testing::grads_of(*copy));
        want = want.defined() ? want + g : g;
      }
      want = want / static_cast<double>(c.world());
    } else {
      want = torch::zeros_like(flat(net->parameters()));
    }
    c.broadcast(want, 0);

    opt.zero_grad();
    sync.begin_step();
    net->loss(divrec::testing::tiny_ids(c.rank(), step), c.rank() == 1).backward();
    sync.finish_step();
    auto got = flat(divrec::testing::grads_of(*net));
    expect_same_on_all_ranks(got, "gradients after finish_step");
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << "step " << step;
    opt.step();
    expect_same_on_all_ranks(flat(net->parameters()), "parameters after the update");
  }
  EXPECT_EQ(sync.stats().steps, 3);
}

}  // namespace

TEST(GradSyncMpi, AveragesWithOverlap) { run(true); }
TEST(GradSyncMpi, AveragesWithoutOverlap) { run(false); }

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  core::MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  int worst = divrec::testing::run_all_tests_on_ranks(comm);
  return worst;
}
