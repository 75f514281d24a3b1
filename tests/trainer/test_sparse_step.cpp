// The touched-items step equals the whole-catalog step on a small model: same loss, the id
// table's gradient rows of the touched items equal the dense gradient's rows (1e-6), every
// other dense row is exactly zero, the dense parameters' gradients agree, for next-item and
// masked-item with BCE and sampled softmax (mixed in-batch negatives included on the sparse
// side only where the dense path has the same ones: off here). Also the option checks.
#include <gtest/gtest.h>

#include "core/comm/communicator.h"
#include "trainer/sharded_item_table.h"
#include "trainer/step_loss.h"
#include "trainer/train_fixture.h"

using namespace divrec;

namespace {

const divrec::testing::InMemoryData& data_set() {
  static const auto d = [] {
    data::SyntheticOptions so;
    so.users = 60;
    so.items = 150;
    so.categories = 5;
    so.attributes = 12;
    so.mean_length = 9;
    so.content_dim = 6;
    so.seed = 11;
    return divrec::testing::synthetic_in_memory(so, "divrec_sparse_step");
  }();
  return d;
}

model::ModelConfig small_model(const data::ItemTable& items) {
  auto mc = model::with_catalog_sizes({}, items);
  mc.dim = 16;
  mc.layers = 1;
  mc.heads = 2;
  mc.max_len = 10;
  mc.dropout = 0.0;
  mc.attn_dropout = 0.0;
  return mc;
}

void compare(const std::string& objective, const std::string& loss) {
  const auto& d = data_set();
  auto mc = small_model(d.items);
  torch::manual_seed(7);
  model::SeqModel dense(mc, model::ItemFeatures::from_table(d.items));
  auto mcs = mc;
  mcs.external_item_table = true;
  model::SeqModel sparse(mcs, model::ItemFeatures::from_table(d.items));
  {
    torch::NoGradGuard no_grad;
    auto src = dense->named_parameters();
    for (auto& kv : sparse->named_parameters()) kv.value().copy_(src[kv.key()]);
  }
  core::LocalCommunicator local;
  trainer::ShardedItemTable table({trainer::Sharding::kReplicated, mc.num_items, 0, 1}, mc.dim,
                                  trainer::SparseOptimConfig{}, local);
  {
    torch::NoGradGuard no_grad;
    table.weight().copy_(dense->named_parameters()["item_encoder.item_id.weight"]);
  }
  sparse->item_encoder()->attach_id_table(table.weight());

  trainer::TrainConfig cd;
  cd.objective = objective;
  cd.loss = loss;
  cd.num_negatives = 24;
  cd.mask_prob = 0.3;
  auto cs = cd;
  cd.sparse_item_table = false;
  cs.sparse_item_table = true;
  trainer::StepLoss step_dense(cd, mc, d.seqs, d.items, nullptr);
  trainer::StepLoss step_sparse(cs, mcs, d.seqs, d.items, &table);
  std::vector<int64_t> users;
  for (int64_t u = 0; u < d.seqs.num_users() && users.size() < 12; ++u) {
    if (d.seqs.history_end(u, data::Split::kTrain) >= 2) users.push_back(u);
  }
  int64_t nd = 0, ns = 0;
  step_dense.seed_step(5, 0);
  auto ld = step_dense(dense, users, &nd);
  step_sparse.seed_step(5, 0);
  auto ls = step_sparse(sparse, users, &ns);
  ASSERT_EQ(nd, ns);
  ASSERT_GT(nd, 0);
  EXPECT_NEAR(ld.item<double>(), ls.item<double>(), 1e-6) << objective << " " << loss;
  ld.backward();
  ls.backward();

  const auto ids = table.last_ids();
  ASSERT_GT(ids.numel(), 0);
  EXPECT_LT(ids.numel(), mc.num_items);  // the step did not touch the whole catalog
  const auto g_dense = dense->named_parameters()["item_encoder.item_id.weight"].grad();
  const auto g_rows = table.last_lookup().grad();
  ASSERT_TRUE(g_rows.defined());
  EXPECT_EQ(g_rows.sizes(), torch::IntArrayRef({ids.numel(), mc.dim}));
  EXPECT_LE((g_dense.index_select(0, ids) - g_rows).abs().max().item<double>(), 1e-6);
  auto untouched = torch::ones({mc.num_items}, torch::kBool).index_fill_(0, ids, false);
  EXPECT_EQ(g_dense.index({untouched}).abs().max().item<double>(), 0.0);
  EXPECT_GT(g_rows.abs().max().item<double>(), 0.0);
  auto gs = sparse->named_parameters();
  for (auto& kv : dense->named_parameters()) {
    if (kv.key() == "item_encoder.item_id.weight") {
      EXPECT_FALSE(gs.contains(kv.key()));  // no [I, D] parameter on the sparse side
      continue;
    }
    const auto& a = kv.value().grad();
    const auto& b = gs[kv.key()].grad();
    ASSERT_EQ(a.defined(), b.defined()) << kv.key();
    if (a.defined()) {
      EXPECT_LE((a - b).abs().max().item<double>(), 1e-6) << kv.key();
    }
  }
}

}  // namespace

TEST(SparseStep, NextItemSampledSoftmax) { compare("next-item", "sampled-softmax"); }
TEST(SparseStep, NextItemBce) { compare("next-item", "bce"); }
TEST(SparseStep, MaskedItemSampledSoftmax) { compare("masked-item", "sampled-softmax"); }

TEST(SparseStep, OptionChecks) {
  trainer::TrainConfig c;
  c.loss = "sampled-softmax";
  trainer::resolve_item_table(c, 1000);
  EXPECT_TRUE(c.sparse_item_table);
  c.loss = "full-ce";
  trainer::resolve_item_table(c, 1000);
  EXPECT_FALSE(c.sparse_item_table);
  EXPECT_THROW(trainer::resolve_item_table(c, trainer::kMaxFullCeItems + 1), divrec::Error);
  c.item_table = "sparse";
  EXPECT_THROW(trainer::resolve_item_table(c, 1000), divrec::Error);
  c.item_table = "auto";
  c.embedding_sharding = "row";
  EXPECT_THROW(trainer::resolve_item_table(c, 1000), divrec::Error);  // row needs sparse
  c.loss = "bce";
  c.calibration_weight = 0.1;
  EXPECT_THROW(trainer::resolve_item_table(c, 1000), divrec::Error);
  c.calibration_weight = 0.0;
  trainer::resolve_item_table(c, 1000);
  EXPECT_TRUE(c.sparse_item_table);
  c.embedding_sharding = "columns";
  EXPECT_THROW(trainer::resolve_item_table(c, 1000), divrec::Error);
  c.embedding_sharding = "row";
  c.sparse_optimizer = "adam";
  EXPECT_THROW(trainer::resolve_item_table(c, 1000), divrec::Error);
  c.sparse_optimizer = "lazy-adam";
  // --item-table-memory: auto and device follow the training device, host is the CPU.
  // With NCCL (the only backend that moves CUDA tensors) auto = device; else auto = host and
  // device is refused.
  const torch::Device gpu(torch::kCUDA, 1);  // a device value only; nothing is allocated
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(trainer::item_table_device(c, gpu, "nccl"), gpu);
  EXPECT_EQ(trainer::item_table_device(c, gpu, "mpi"), cpu);
  EXPECT_EQ(trainer::item_table_device(c, cpu, "mpi"), cpu);
  c.item_table_memory = "device";
  EXPECT_EQ(trainer::item_table_device(c, gpu, "nccl"), gpu);
  EXPECT_EQ(trainer::item_table_device(c, cpu, "local"), cpu);
  try {
    trainer::item_table_device(c, gpu, "mpi");
    ADD_FAILURE() << "--item-table-memory device accepted with MPI on a GPU";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'mpi'"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--comm nccl"), std::string::npos) << e.hint();
  }
  c.item_table_memory = "host";
  EXPECT_EQ(trainer::item_table_device(c, gpu, "nccl"), cpu);
  EXPECT_EQ(trainer::item_table_device(c, cpu, "mpi"), cpu);
  c.item_table_memory = "uvm";
  try {
    trainer::resolve_item_table(c, 1000);
    ADD_FAILURE() << "--item-table-memory uvm accepted";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--item-table-memory 'uvm'"), std::string::npos)
        << e.what();
  }
}
