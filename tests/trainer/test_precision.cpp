// bf16 mixed precision against fp32 on one training step (the same model, batch and negatives):
// the loss within 1 %, the gradient's direction (cosine >= 0.99) and norm (within 5 %), and
// one AdamW update within 15 % of its norm (a first AdamW step is about lr * sign(g) per element,
// so elements whose gradient is near zero may flip: 8-9 % measured); for full CE next-item (the
// recipe's loss) and BCE. Also the autocast scope's on/off/nesting behaviour and the device option.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "core/check.h"
#include "trainer/model/cpu_bf16.h"
#include "trainer/model/device.h"
#include "trainer/model/precision.h"
#include "trainer/optim.h"
#include "trainer/step_loss.h"
#include "trainer/train_fixture.h"

using namespace divrec;

namespace {

const divrec::testing::InMemoryData& data_set() {
  static const auto d = [] {
    data::SyntheticOptions so;
    so.users = 80;
    so.items = 300;
    so.categories = 6;
    so.attributes = 16;
    so.mean_length = 12;
    so.seed = 5;
    return divrec::testing::synthetic_in_memory(so, "divrec_precision");
  }();
  return d;
}

struct StepResult {
  double loss = 0;
  torch::Tensor grad;    // all gradients, flattened, in parameter order
  torch::Tensor update;  // parameters after one AdamW step minus before
};

StepResult one_step(const std::string& loss, model::Precision precision) {
  const auto& d = data_set();
  auto mc = model::with_catalog_sizes({}, d.items);
  mc.dim = 64;
  mc.layers = 2;
  mc.heads = 2;
  mc.max_len = 20;
  mc.dropout = 0.0;
  mc.attn_dropout = 0.0;
  torch::manual_seed(3);
  model::SeqModel m(mc, model::ItemFeatures::from_table(d.items));
  trainer::TrainConfig cfg;
  cfg.objective = "next-item";
  cfg.loss = loss;
  trainer::StepLoss step(cfg, mc, d.seqs, d.items, nullptr);
  std::vector<int64_t> users;
  for (int64_t u = 0; u < d.seqs.num_users() && users.size() < 32; ++u) {
    if (d.seqs.history_end(u, data::Split::kTrain) >= 2) users.push_back(u);
  }
  trainer::OptimConfig oc;
  oc.lr = 1e-3;
  auto opt = trainer::make_adamw(*m, oc);
  std::vector<torch::Tensor> before;
  for (const auto& p : m->parameters()) before.push_back(p.detach().clone());

  step.seed_step(1, 0);
  int64_t n = 0;
  torch::Tensor l;
  {
    model::AutocastScope autocast(precision, torch::kCPU);
    l = step(m, users, &n);
  }
  EXPECT_EQ(l.scalar_type(), torch::kFloat) << "the loss accumulates in fp32";
  l.backward();
  StepResult r;
  r.loss = l.item<double>();
  std::vector<torch::Tensor> grads, updates;
  for (const auto& p : m->parameters()) grads.push_back(p.grad().flatten());
  opt->step();
  auto params = m->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].scalar_type(), torch::kFloat) << "master weights stay fp32";
    updates.push_back((params[i].detach() - before[i]).flatten());
  }
  r.grad = torch::cat(grads).to(torch::kFloat64);
  r.update = torch::cat(updates).to(torch::kFloat64);
  return r;
}

void compare(const std::string& loss) {
  const auto f = one_step(loss, model::Precision::kFp32);
  const auto b = one_step(loss, model::Precision::kBf16);
  EXPECT_NEAR(b.loss, f.loss, 0.01 * f.loss) << loss;
  EXPECT_NE(b.loss, f.loss) << loss << ": bf16 changed nothing, so autocast did not run";
  const double cos =
      (f.grad * b.grad).sum().item<double>() / (f.grad.norm() * b.grad.norm()).item<double>();
  EXPECT_GE(cos, 0.99) << loss;
  EXPECT_NEAR(b.grad.norm().item<double>() / f.grad.norm().item<double>(), 1.0, 0.05) << loss;
  const double rel = ((b.update - f.update).norm() / f.update.norm()).item<double>();
  // A first AdamW step is ~lr * sign(g) per entry, so this counts sign flips of near-zero
  // gradient entries: 2 sqrt(flipped fraction). 8-9 % on the Intel AVX512-BF16 box, 20 % on an
  // AVX2-only AMD EPYC (other bf16 kernels, ~1 % of entries flipped); a broken bf16 path flips far
  // more (and fails the cosine and norm checks above).
  EXPECT_LE(rel, 0.3) << loss << ": AdamW updates differ by " << rel << " of their norm";
}

TEST(Precision, Bf16StepMatchesFp32FullCe) { compare("full-ce"); }
TEST(Precision, Bf16StepMatchesFp32Bce) { compare("bce"); }

TEST(Precision, AutocastScopeTurnsProductsToBf16AndRestores) {
  const auto a = torch::randn({8, 16});
  const auto w = torch::randn({16, 4});
  EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kFloat);
  {
    model::AutocastScope outer(model::Precision::kBf16, torch::kCPU);
    EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kBFloat16);
    {
      model::AutocastScope inner(model::Precision::kBf16, torch::kCPU);
      EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kBFloat16) << "inner scope ended it";
    // Elementwise ops are not autocast; to_fp32 brings a bf16 product back.
    EXPECT_EQ(model::to_fp32(torch::matmul(a, w)).scalar_type(), torch::kFloat);
  }
  EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kFloat);
  {
    model::AutocastScope off(model::Precision::kFp32, torch::kCPU);
    EXPECT_EQ(torch::matmul(a, w).scalar_type(), torch::kFloat);
  }
}

TEST(Precision, ParseNames) {
  EXPECT_EQ(model::parse_precision("fp32"), model::Precision::kFp32);
  EXPECT_EQ(model::parse_precision("bf16"), model::Precision::kBf16);
  EXPECT_STREQ(model::precision_name(model::Precision::kBf16), "bf16");
  EXPECT_THROW(model::parse_precision("fp16"), divrec::Error);
}

TEST(Device, ResolvesCpuAndRejectsUnknown) {
  EXPECT_TRUE(model::resolve_device("cpu").is_cpu());
  EXPECT_THROW(model::resolve_device("tpu"), divrec::Error);
  if (torch::cuda::device_count() == 0) {
    EXPECT_TRUE(model::resolve_device("auto").is_cpu());
    EXPECT_THROW(model::resolve_device("cuda"), divrec::Error);
  } else {
    EXPECT_TRUE(model::resolve_device("auto").is_cuda());
  }
}

}  // namespace

// Native bf16 from /proc/cpuinfo's flags lines (hand-written excerpts of an AVX2-only EPYC, a
// Zen 4 EPYC and a Sapphire Rapids Xeon), and the warning train logs on a CPU without it.
TEST(CpuBf16, FlagsAndWarning) {
  const std::string avx2 =
      "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma bmi2\n\n"
      "processor\t: 1\nflags\t\t: fpu sse2 avx avx2 fma bmi2\n";
  const std::string zen4 = "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n";
  const std::string spr = "flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n";
  EXPECT_FALSE(model::cpuinfo_has_native_bf16(avx2));
  EXPECT_TRUE(model::cpuinfo_has_native_bf16(zen4));
  EXPECT_TRUE(model::cpuinfo_has_native_bf16(spr));
  EXPECT_FALSE(model::cpuinfo_has_native_bf16("bugs\t\t: avx512_bf16\n"));    // not a flags line
  EXPECT_FALSE(model::cpuinfo_has_native_bf16("flags\t\t: avx512_bf16x\n"));  // whole words
  EXPECT_FALSE(model::cpuinfo_has_native_bf16(""));

  const torch::Device cpu(torch::kCPU), cuda(torch::kCUDA, 0);
  const auto warning = model::bf16_cpu_warning(model::Precision::kBf16, cpu, false);
  EXPECT_NE(warning.find("--precision fp32"), std::string::npos) << warning;
  EXPECT_EQ(model::bf16_cpu_warning(model::Precision::kBf16, cpu, true), "");
  EXPECT_EQ(model::bf16_cpu_warning(model::Precision::kFp32, cpu, false), "");
  EXPECT_EQ(model::bf16_cpu_warning(model::Precision::kBf16, cuda, false), "");
  // Without the flag given: this machine's /proc/cpuinfo decides.
  EXPECT_EQ(model::bf16_cpu_warning(model::Precision::kBf16, cpu),
            model::bf16_cpu_warning(model::Precision::kBf16, cpu, model::cpu_has_native_bf16()));
}
