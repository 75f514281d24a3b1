// `divrec eval`'s job (run_eval) under mpirun -n 2 and -n 3: the report of a sweep over several
// methods with a constraint, and the dumped lists, are the same as a single-rank evaluation of all
// users that rank 0 runs afterwards with a LocalCommunicator (exact for histogram metrics and the
// list file's bytes, 1e-9 for means).
#include <gtest/gtest.h>

#include "common/mpi_gtest.h"

#include <filesystem>

#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"
#include "core/fs.h"
#include "eval/evaluator_fixture.h"
#include "eval/run_eval.h"

using namespace divrec;

static core::MpiCommunicator* g_comm = nullptr;

// Rank 0 writes the synthetic dataset + checkpoint; every rank gets the directory.
static std::string shared_fixture(core::Communicator& comm, const std::string& name) {
  std::string dir;
  if (comm.rank() == 0) {
    dir = divrec::testing::eval_scratch_dir(name + std::to_string(comm.world()));
    divrec::testing::make_eval_fixture(dir, /*users=*/200, /*items=*/120, /*seed=*/11);
  }
  core::set_log_quiet(true);
  core::broadcast_string(comm, dir, 0);
  return dir;
}

TEST(EvalMpi, SameReportAndListsAsOneRank) {
  auto& comm = *g_comm;
  const std::string dir = shared_fixture(comm, "mpi_np");

  eval::EvalConfig c;
  c.data_dir = dir + "/data";
  c.checkpoint = dir + "/model.pt";
  c.ks = {5, 10, 20};
  c.candidates = 50;
  c.rerank.method = eval::RerankMethod::kMmr;
  c.sweep = "lambda=0.2,0.6";
  c.sweep_methods = {"mmr", "dpp", "xquad", "calibrated"};
  c.constraints.min_categories = 3;
  c.constraints.max_per_category = 8;
  c.batch_size = 16;
  c.threads = 2;
  c.plot = false;
  c.report = dir + "/report_np.json";
  c.dump_lists = dir + "/lists_np.jsonl";
  auto dist = eval::run_eval(c, comm);
  EXPECT_EQ(dist.ranks, comm.world());
  ASSERT_EQ(dist.settings.size(), 8u);

  comm.barrier();
  if (comm.rank() == 0) {
    core::LocalCommunicator local;
    auto single_cfg = c;
    single_cfg.report = dir + "/report_1.json";
    single_cfg.dump_lists = dir + "/lists_1.jsonl";
    single_cfg.threads = 1;
    auto single = eval::run_eval(single_cfg, local);
    EXPECT_EQ(single.users, dist.users);
    EXPECT_GT(single.users, 100);
    // EXPECT only from here on: an early return on rank 0 would leave the others in the barrier.
    EXPECT_EQ(single.settings.size(), dist.settings.size());
    for (size_t s = 0; s < std::min(single.settings.size(), dist.settings.size()); ++s) {
      divrec::testing::expect_same_metrics(single.settings[s].metrics, dist.settings[s].metrics,
                                           single.settings[s].setting.describe());
      EXPECT_EQ(single.settings[s].infeasible_users, dist.settings[s].infeasible_users);
    }
    const std::string a = core::read_file(c.dump_lists), b = core::read_file(single_cfg.dump_lists);
    EXPECT_GT(a.size(), 1000u);
    EXPECT_TRUE(a == b) << "dumped lists differ between " << comm.world() << " ranks and 1";
    std::filesystem::remove_all(dir);
  }
  comm.barrier();
}

// --fairness dual under mpirun: the same multipliers (bit for bit), pass log, metrics and lists as
// one rank.
TEST(EvalMpi, FairExposureSameAsOneRank) {
  auto& comm = *g_comm;
  const std::string dir = shared_fixture(comm, "mpi_fair_np");
  eval::EvalConfig c;
  c.data_dir = dir + "/data";
  c.checkpoint = dir + "/model.pt";
  c.ks = {5, 10};
  c.candidates = 50;
  c.rerank.method = eval::RerankMethod::kDpp;
  c.constraints.max_per_category = 4;
  c.batch_size = 16;
  c.threads = 2;
  c.fairness.mode = "dual";
  c.fairness.groups = "popularity-bins:3";
  c.fairness.target = "uniform";
  c.fairness.weights = eval::ExposureWeights::kLog;
  c.fairness.tolerance = 0.02;
  c.fairness.max_passes = 8;
  c.report = dir + "/fair_np.json";
  c.dump_lists = dir + "/fair_np.jsonl";
  auto dist = eval::run_eval(c, comm);
  comm.barrier();
  if (comm.rank() == 0) {
    core::LocalCommunicator local;
    auto one = c;
    one.report = dir + "/fair_1.json";
    one.dump_lists = dir + "/fair_1.jsonl";
    one.threads = 1;
    auto single = eval::run_eval(one, local);
    EXPECT_GT(single.fairness["passes"].get<int>(), 1);
    EXPECT_EQ(single.fairness["multiplier_vector"], dist.fairness["multiplier_vector"]);
    EXPECT_EQ(single.fairness["log"], dist.fairness["log"]);
    divrec::testing::expect_same_metrics(single.settings[0].metrics, dist.settings[0].metrics,
                                         "fair");
    EXPECT_TRUE(core::read_file(c.dump_lists) == core::read_file(one.dump_lists));
    std::filesystem::remove_all(dir);
  }
  comm.barrier();
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  core::MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  return divrec::testing::run_all_tests_on_ranks(comm);
}
