// One training step on a CUDA GPU against the same step on the CPU (same parameters, batch and
// negatives: sampling stays on the CPU generators): loss within 1e-4 and every gradient within
// 1e-3 relative (cuBLAS and oneDNN/OpenBLAS sum in different orders), for the dense
// whole-catalog path (full CE) and the touched-items path (sampled softmax) with the table in
// host memory and in GPU memory (then also the table after one sparse update), and bf16 autocast on
// the GPU against fp32. Skips without a GPU (every CPU-only LibTorch), so CI builds it and
// tests/gpu/run.sh runs it where a GPU is.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "core/comm/communicator.h"
#include "trainer/model/precision.h"
#include "trainer/sharded_item_table.h"
#include "trainer/step_loss.h"
#include "trainer/train_fixture.h"

using namespace divrec;

namespace {

const divrec::testing::InMemoryData& data_set() {
  static const auto d = [] {
    data::SyntheticOptions so;
    so.users = 80;
    so.items = 400;
    so.categories = 6;
    so.attributes = 16;
    so.mean_length = 12;
    so.content_dim = 8;
    so.seed = 9;
    return divrec::testing::synthetic_in_memory(so, "divrec_device_step");
  }();
  return d;
}

struct Result {
  double loss = 0;
  std::map<std::string, torch::Tensor> grads;  // on the CPU, float64
  torch::Tensor table_grad;                    // sparse path: the looked-up rows' gradient
  torch::Tensor table_after;  // sparse path: the whole table after one lazy-Adam update
};

// table_device: where the sparse table lives (host memory, or the model's device).
Result run(const std::string& loss, bool sparse, torch::Device device, model::Precision prec,
           torch::Device table_device = torch::kCPU) {
  const auto& d = data_set();
  auto mc = model::with_catalog_sizes({}, d.items);
  mc.dim = 32;
  mc.layers = 2;
  mc.heads = 2;
  mc.max_len = 20;
  mc.dropout = 0.0;
  mc.attn_dropout = 0.0;
  mc.external_item_table = sparse;
  torch::manual_seed(4);
  model::SeqModel m(mc, model::ItemFeatures::from_table(d.items));
  m->to(device);
  core::LocalCommunicator local;
  trainer::ShardedItemTable table({trainer::Sharding::kReplicated, mc.num_items, 0, 1}, mc.dim,
                                  trainer::SparseOptimConfig{}, local, table_device);
  table.init_trunc_normal(mc.init_std, 17);
  trainer::TrainConfig cfg;
  cfg.objective = "next-item";
  cfg.loss = loss;
  cfg.num_negatives = 64;
  cfg.sparse_item_table = sparse;
  trainer::StepLoss step(cfg, mc, d.seqs, d.items, sparse ? &table : nullptr, device);
  std::vector<int64_t> users;
  for (int64_t u = 0; u < d.seqs.num_users() && users.size() < 24; ++u) {
    if (d.seqs.history_end(u, data::Split::kTrain) >= 2) users.push_back(u);
  }
  step.seed_step(2, 0);
  int64_t n = 0;
  torch::Tensor l;
  {
    model::AutocastScope autocast(prec, device);
    l = step(m, users, &n);
  }
  l.backward();
  Result r;
  r.loss = l.item<double>();
  for (auto& kv : m->named_parameters()) {
    r.grads[kv.key()] = kv.value().grad().to(torch::kCPU, torch::kFloat64);
  }
  if (sparse) {
    auto rows = table.last_lookup();
    r.table_grad = rows.grad().to(torch::kCPU, torch::kFloat64);
    // The update gets a fixed gradient (the same on both devices), so only the optimizer
    // kernels and the reduction differ: a first lazy-Adam step is ~ -lr sign(g), which would
    // turn a rounding difference in a near-zero gradient element into a difference of ~lr.
    auto n_rows = static_cast<double>(rows.numel());
    rows.mutable_grad() =
        torch::sin(torch::arange(rows.numel(), torch::kFloat32) * (7.0 / n_rows) + 0.3)
            .view(rows.sizes())
            .to(rows.device());
    table.reduce_gradients(1.0);
    table.apply(0.01, 1.0, 1);
    r.table_after = table.weight().to(torch::kCPU, torch::kFloat64);
  }
  return r;
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm().clamp_min(1e-30)).item<double>();
}

void compare_devices(const std::string& loss, bool sparse, bool table_on_gpu = false) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU visible (or a CPU-only LibTorch)";
  const torch::Device gpu(torch::kCUDA, 0);
  const auto c = run(loss, sparse, torch::kCPU, model::Precision::kFp32);
  const auto g = run(loss, sparse, gpu, model::Precision::kFp32,
                     table_on_gpu ? gpu : torch::Device(torch::kCPU));
  EXPECT_NEAR(g.loss, c.loss, 1e-4 * c.loss) << loss;
  for (const auto& [name, grad] : c.grads) {
    EXPECT_LE(rel_diff(g.grads.at(name), grad), 1e-3) << name;
  }
  if (sparse) {
    EXPECT_LE(rel_diff(g.table_grad, c.table_grad), 1e-3) << "item-table rows";
    // The same update (host loops vs the device's tensor-op kernels, same gradient) leaves the
    // same table up to float32 rounding.
    EXPECT_LE((g.table_after - c.table_after).abs().max().item<double>(), 1e-6)
        << "item table after the update";
  }
}

TEST(DeviceStep, DenseFullCeCudaEqualsCpu) { compare_devices("full-ce", false); }
TEST(DeviceStep, SparseSampledSoftmaxCudaEqualsCpu) { compare_devices("sampled-softmax", true); }
TEST(DeviceStep, SparseTableInGpuMemoryEqualsCpu) {
  compare_devices("sampled-softmax", true, /*table_on_gpu=*/true);
}

TEST(DeviceStep, Bf16OnCudaMatchesFp32) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU visible (or a CPU-only LibTorch)";
  const torch::Device gpu(torch::kCUDA, 0);
  const auto f = run("full-ce", false, gpu, model::Precision::kFp32);
  const auto b = run("full-ce", false, gpu, model::Precision::kBf16);
  EXPECT_NEAR(b.loss, f.loss, 0.01 * f.loss);
  EXPECT_NE(b.loss, f.loss) << "bf16 changed nothing: autocast did not run on CUDA";
  for (const auto& [name, grad] : f.grads) {
    EXPECT_LE(rel_diff(b.grads.at(name), grad), 0.1) << name;
  }
}

}  // namespace
