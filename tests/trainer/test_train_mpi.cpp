// The training loop for real under mpirun -n 2: two ranks with batch B end with the same
// parameters as one rank with batch 2B (dropout off, within float tolerance), every rank holds
// identical parameters, and a run interrupted mid-epoch then resumed ends bit-identical to an
// uninterrupted one.
#include <gtest/gtest.h>

#include "common/mpi_gtest.h"
#include <unistd.h>

#include <filesystem>

#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "trainer/checkpoint.h"
#include "trainer/model/seq_model.h"
#include "trainer/trainer.h"
#include "trainer/train_fixture.h"

using namespace divrec;
using divrec::testing::final_params;

static core::MpiCommunicator* g_comm = nullptr;
static std::string g_dir;

namespace {

trainer::TrainConfig base_config(const std::string& run) {
  trainer::TrainConfig c;
  c.data_dir = g_dir + "/data";
  c.run_dir = g_dir + "/" + run;
  c.objective = "next-item";
  c.loss = "full-ce";
  c.epochs = 1;
  c.batch_size = 16;
  c.model.dim = 32;
  c.model.layers = 2;
  c.model.heads = 2;
  c.model.max_len = 20;
  c.model.dropout = 0.0;
  c.model.attn_dropout = 0.0;
  c.eval_every = 0;
  c.final_test = false;
  c.warmup_steps = 2;
  c.lr = 3e-3;
  c.log_every = 1000;
  c.collective_timeout = 120;
  c.threads = 1;
  return c;
}


}  // namespace

TEST(TrainMpi, TwoRanksBatchBEqualOneRankBatch2B) {
  ASSERT_EQ(g_comm->world(), 2);
  auto c2 = base_config("two_ranks");
  c2.max_steps = 6;
  auto r2 = trainer::train(c2, "", *g_comm);
  EXPECT_EQ(r2.steps, 6);
  // every rank holds identical parameters (train() also checks this itself)
  double lo = core::allreduce_scalar(*g_comm, r2.param_digest, core::ReduceOp::kMin);
  double hi = core::allreduce_scalar(*g_comm, r2.param_digest, core::ReduceOp::kMax);
  EXPECT_EQ(lo, hi);
  g_comm->barrier();
  if (g_comm->rank() == 0) {
    core::LocalCommunicator local;
    auto c1 = base_config("one_rank");
    c1.batch_size = 32;
    c1.max_steps = 6;
    auto r1 = trainer::train(c1, "", local);
    EXPECT_EQ(r1.steps, 6);
    auto p1 = final_params(c1), p2 = final_params(c2);
    ASSERT_EQ(p1.size(), p2.size());
    for (auto& [name, t] : p1) {
      EXPECT_TRUE(torch::allclose(t, p2[name], 1e-4, 1e-5))
          << name << " max diff " << (t - p2[name]).abs().max().item<double>();
    }
    // and training did move the parameters (the comparison is not vacuous)
    EXPECT_GT(std::abs(r1.param_digest), 0.0);
  }
  g_comm->barrier();
}

TEST(TrainMpi, ResumeMidEpochEqualsUninterrupted) {
  auto cu = base_config("uninterrupted");
  cu.epochs = 2;
  cu.loss = "bce";  // random negatives and dropout: the RNG handling is exercised too
  cu.model.dropout = 0.2;
  cu.model.attn_dropout = 0.2;
  auto ru = trainer::train(cu, "", *g_comm);

  auto cr = cu;
  cr.run_dir = g_dir + "/resumed";
  cr.max_steps = ru.steps / 2 + 1;  // stops mid-epoch (epoch 1 of 2 or inside epoch 2)
  auto first = trainer::train(cr, "", *g_comm);
  EXPECT_EQ(first.outcome, trainer::TrainOutcome::kMaxSteps);
  cr.max_steps = 0;
  cr.resume = "auto";
  auto rr = trainer::train(cr, "", *g_comm);
  EXPECT_EQ(rr.steps, ru.steps);
  EXPECT_EQ(rr.param_digest, ru.param_digest);  // bit-identical
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  core::MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  core::set_log_rank(comm.rank(), comm.world());
  core::set_log_quiet(true);
  if (comm.rank() == 0) {
    g_dir =
        (std::filesystem::temp_directory_path() / ("divrec_test_train_" + std::to_string(getpid())))
            .string();
    std::filesystem::remove_all(g_dir);
    std::filesystem::create_directories(g_dir);
    data::SyntheticOptions so;
    so.users = 300;
    so.items = 120;
    so.categories = 6;
    so.attributes = 20;
    so.mean_length = 12;
    so.content_dim = 8;
    so.seed = 3;
    data::WriteOptions wo;
    wo.output_dir = g_dir + "/data";
    wo.num_shards = 2;
    data::write_dataset(data::convert_synthetic(so), wo);
  }
  core::broadcast_string(comm, g_dir, 0);
  int worst = divrec::testing::run_all_tests_on_ranks(comm);
  comm.barrier();
  if (comm.rank() == 0) std::filesystem::remove_all(g_dir);
  return worst;
}
