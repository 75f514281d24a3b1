// The sparse item table for real under mpirun -n 2 and -n 3: row-wise sharding ends with the
// same parameters as the replicated table (sampled softmax, the same negatives per rank), a
// run interrupted and resumed ends bit-identical to an uninterrupted one in both modes, the
// sparse path keeps "W ranks x B == 1 rank x W B", and a row-sharded checkpoint re-shards
// when resumed on another world size (saved by the W-rank job, resumed by one rank here).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/mpi_gtest.h"
#include "core/comm/mpi_comm.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "trainer/checkpoint.h"
#include "trainer/item_table_checkpoint.h"
#include "trainer/model/seq_model.h"
#include "trainer/trainer.h"
#include "trainer/train_fixture.h"

using namespace divrec;
using divrec::testing::final_params;

static core::MpiCommunicator* g_comm = nullptr;
static std::string g_dir;

namespace {

trainer::TrainConfig sparse_config(const std::string& run, const std::string& sharding) {
  trainer::TrainConfig c;
  c.data_dir = g_dir + "/data";
  c.run_dir = g_dir + "/" + run;
  c.loss = "sampled-softmax";
  c.num_negatives = 32;
  c.in_batch_negatives = 8;
  c.item_table = "sparse";
  c.embedding_sharding = sharding;
  c.epochs = 1;
  c.batch_size = 12;
  c.model.dim = 16;
  c.model.layers = 1;
  c.model.heads = 2;
  c.model.max_len = 16;
  c.model.dropout = 0.0;
  c.model.attn_dropout = 0.0;
  c.eval_every = 0;
  c.final_test = false;
  c.warmup_steps = 2;
  c.lr = 5e-3;
  c.log_every = 1000;
  c.collective_timeout = 120;
  c.threads = 1;
  return c;
}


void expect_close(const std::map<std::string, torch::Tensor>& a,
                  const std::map<std::string, torch::Tensor>& b, double atol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const double diff = (t - b.at(name)).abs().max().item<double>();
    EXPECT_LE(diff, atol) << name;
  }
}

}  // namespace

TEST(SparseTrainMpi, RowShardingEqualsReplicated) {
  auto cr = sparse_config("replicated", "replicated");
  cr.epochs = 3;
  cr.max_steps = 8;
  auto rr = trainer::train(cr, "", *g_comm);
  auto cw = sparse_config("row", "row");
  cw.epochs = 3;
  cw.max_steps = 8;
  auto rw = trainer::train(cw, "", *g_comm);
  EXPECT_EQ(rr.steps, 8);
  EXPECT_EQ(rw.steps, 8);
  g_comm->barrier();
  if (g_comm->rank() == 0) {
    auto pr = final_params(cr), pw = final_params(cw);
    expect_close(pr, pw, 1e-5);
    // Training moved the item table (the comparison is not vacuous).
    EXPECT_GT(pr.at("item_encoder.item_id.weight").abs().sum().item<double>(), 0.0);
  }
  g_comm->barrier();
}

TEST(SparseTrainMpi, ResumeIsBitIdenticalInBothModes) {
  for (std::string sharding : {"replicated", "row"}) {
    for (std::string opt : {"lazy-adam", "rowwise-adagrad"}) {
      auto cu = sparse_config("u_" + sharding + "_" + opt, sharding);
      cu.sparse_optimizer = opt;
      cu.epochs = 2;
      cu.model.dropout = 0.2;
      auto ru = trainer::train(cu, "", *g_comm);
      auto cr = cu;
      cr.run_dir = g_dir + "/r_" + sharding + "_" + opt;
      cr.max_steps = ru.steps / 2 + 1;
      auto first = trainer::train(cr, "", *g_comm);
      EXPECT_EQ(first.outcome, trainer::TrainOutcome::kMaxSteps);
      cr.max_steps = 0;
      cr.resume = "auto";
      auto rr = trainer::train(cr, "", *g_comm);
      EXPECT_EQ(rr.steps, ru.steps) << sharding << " " << opt;
      EXPECT_EQ(rr.param_digest, ru.param_digest) << sharding << " " << opt;
    }
  }
}

TEST(SparseTrainMpi, WRanksBatchBEqualOneRankBatchWB) {
  // Shared negatives are drawn from a seed every rank shares, so W ranks x B draw what one
  // rank x W B draws (in-batch negatives are per rank by design: off here).
  const int W = g_comm->world();
  auto cw = sparse_config("w_ranks", "row");
  cw.in_batch_negatives = 0;
  cw.max_steps = 5;
  auto rw = trainer::train(cw, "", *g_comm);
  EXPECT_EQ(rw.steps, 5);
  g_comm->barrier();
  if (g_comm->rank() == 0) {
    core::LocalCommunicator local;
    auto c1 = sparse_config("one_rank", "replicated");
    c1.in_batch_negatives = 0;
    c1.batch_size = cw.batch_size * W;
    c1.max_steps = 5;
    auto r1 = trainer::train(c1, "", local);
    EXPECT_EQ(r1.steps, 5);
    expect_close(final_params(c1), final_params(cw), 2e-5);
  }
  g_comm->barrier();
}

// A row-wise checkpoint of this W-rank job re-shards: loaded by one rank (replicated, all rows)
// and by the W ranks (row-wise), rank r's rows and optimizer state are rows r, r+W, ... of the
// one-rank table; training then continues on 1 rank, and the W ranks resume from that
// one-shard checkpoint.
TEST(SparseTrainMpi, CheckpointsReshardAcrossWorldSizes) {
  const int W = g_comm->world();
  auto c = sparse_config("reshard", "row");
  c.max_steps = 3;
  trainer::train(c, "", *g_comm);
  const auto ckpt = trainer::find_resume_checkpoint(c.run_dir, "auto");
  auto items = data::read_item_table(c.data_dir);
  model::ModelConfig mc = model::with_catalog_sizes(c.model, items);
  mc.external_item_table = true;
  auto load_into = [&](core::Communicator& comm, trainer::Sharding kind) {
    trainer::ShardingPlan plan{kind, mc.num_items, comm.rank(), comm.world()};
    auto table = std::make_unique<trainer::ShardedItemTable>(plan, mc.dim,
                                                             trainer::SparseOptimConfig{}, comm);
    model::SeqModel m(mc, model::ItemFeatures::from_table(items));
    trainer::TrainState st;
    trainer::LoadOptions lo;
    lo.restore_rng = false;
    auto rep = trainer::load_checkpoint(ckpt, *m, nullptr, st, lo);
    trainer::load_item_table(ckpt, rep, *table, true);
    return table;
  };
  auto mine = load_into(*g_comm, trainer::Sharding::kRow);
  core::LocalCommunicator local;
  auto whole = load_into(local, trainer::Sharding::kReplicated);
  const auto rows = torch::arange(g_comm->rank(), mc.num_items, W);
  EXPECT_TRUE(torch::equal(mine->weight(), whole->weight().index_select(0, rows)));
  auto sm = mine->optimizer().state(), sw = whole->optimizer().state();
  ASSERT_EQ(sm.size(), sw.size());
  ASSERT_FALSE(sm.empty());
  for (size_t i = 0; i < sm.size(); ++i) {
    EXPECT_TRUE(torch::equal(sm[i].second, sw[i].second.index_select(0, rows))) << sm[i].first;
  }
  EXPECT_GT(sw[0].second.abs().sum().item<double>(), 0.0);  // state was saved, not zeros
  g_comm->barrier();
  auto c1 = c;
  c1.run_dir = g_dir + "/reshard_one";
  if (g_comm->rank() == 0) {
    std::filesystem::copy(c.run_dir, c1.run_dir, std::filesystem::copy_options::recursive);
    c1.resume = "auto";
    c1.max_steps = 4;
    EXPECT_EQ(trainer::train(c1, "", local).steps, 4);  // W shards -> 1 rank
  }
  g_comm->barrier();
  auto cw = c1;
  cw.resume = "auto";
  cw.max_steps = 5;
  EXPECT_EQ(trainer::train(cw, "", *g_comm).steps, 5);  // 1 shard -> W ranks
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  core::MpiCommunicator comm(&argc, &argv);
  g_comm = &comm;
  core::set_log_rank(comm.rank(), comm.world());
  core::set_log_quiet(true);
  if (comm.rank() == 0) {
    g_dir = (std::filesystem::temp_directory_path() /
             ("divrec_test_sparse_" + std::to_string(getpid())))
                .string();
    std::filesystem::remove_all(g_dir);
    std::filesystem::create_directories(g_dir);
    data::SyntheticOptions so;
    so.users = 240;
    so.items = 300;
    so.categories = 6;
    so.attributes = 20;
    so.mean_length = 10;
    so.content_dim = 8;
    so.seed = 5;
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
