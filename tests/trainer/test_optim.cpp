// AdamW parameter groups (decay / no decay by name, shape and module type) and the learning
// rate schedule; expected rates are hand computations written next to each check.
#include <gtest/gtest.h>

#include "core/check.h"
#include "trainer/optim.h"

using namespace divrec::trainer;

namespace {

// Mirrors the real model's naming: item_encoder.item_id (Embedding), item_encoder.norm,
// item_encoder.mask_embedding (1-D), positions (Embedding), blocks.0.{attn_norm, qkv},
// content_proj, plus a 2-D "user_embedding_proj" caught by name only.
struct BlockImpl : torch::nn::Module {
  BlockImpl() {
    register_module("attn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    register_module("qkv", torch::nn::Linear(4, 12));
  }
};
TORCH_MODULE(Block);
struct EncoderImpl : torch::nn::Module {
  EncoderImpl() {
    register_module("item_id", torch::nn::Embedding(10, 4));
    register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    register_parameter("mask_embedding", torch::zeros({4}));
  }
};
TORCH_MODULE(Encoder);
struct ModelImpl : torch::nn::Module {
  ModelImpl() {
    register_module("item_encoder", Encoder());
    register_module("positions", torch::nn::Embedding(6, 4));
    auto blocks = register_module("blocks", torch::nn::ModuleList());
    blocks->push_back(Block());
    register_module("content_proj", torch::nn::Linear(5, 4));
    register_parameter("user_embedding_proj", torch::ones({4, 4}));
    register_parameter("frozen", torch::ones({4, 4}), /*requires_grad=*/false);
  }
};
TORCH_MODULE(Model);

}  // namespace

TEST(Optim, NoDecayRuleByName) {
  EXPECT_FALSE(no_weight_decay_by_name("fc.weight", torch::zeros({3, 2})));
  EXPECT_TRUE(no_weight_decay_by_name("fc.bias", torch::zeros({3})));
  EXPECT_TRUE(no_weight_decay_by_name("blocks.0.attn_norm.weight", torch::zeros({3, 3})));
  EXPECT_TRUE(no_weight_decay_by_name("user_Embedding", torch::zeros({3, 3})));
  EXPECT_TRUE(no_weight_decay_by_name("anything", torch::zeros({7})));  // 1-D
}

TEST(Optim, EmbeddingsBiasesAndNormsGetNoDecay) {
  Model m;
  auto g = param_groups(*m);
  // Registration order, a module's own parameters before its children's.
  EXPECT_EQ(g.decay_names,
            (std::vector<std::string>{"blocks.0.qkv.weight", "content_proj.weight"}));
  EXPECT_EQ(g.no_decay_names,
            (std::vector<std::string>{"user_embedding_proj", "item_encoder.mask_embedding",
                                      "item_encoder.item_id.weight", "item_encoder.norm.weight",
                                      "item_encoder.norm.bias", "positions.weight",
                                      "blocks.0.attn_norm.weight", "blocks.0.attn_norm.bias",
                                      "blocks.0.qkv.bias", "content_proj.bias"}));
  EXPECT_EQ(g.decay.size(), 2u);
  EXPECT_EQ(g.no_decay.size(), 10u);  // "frozen" (no requires_grad) is in neither
}

TEST(Optim, AdamWAppliesDecayToGroupZeroOnly) {
  Model m;
  OptimConfig cfg;
  cfg.lr = 0.1;
  cfg.weight_decay = 0.5;
  auto opt = make_adamw(*m, cfg);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  auto& o0 = static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[0].options());
  auto& o1 = static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[1].options());
  EXPECT_DOUBLE_EQ(o0.weight_decay(), 0.5);
  EXPECT_DOUBLE_EQ(o1.weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(std::get<1>(o0.betas()), 0.999);
  // With zero gradients Adam's update is 0 / (0 + eps) = 0, leaving only the decoupled decay:
  // p <- p * (1 - lr * wd) = p * 0.95 for decayed weights, unchanged otherwise.
  for (auto& p : m->parameters()) p.mutable_grad() = torch::zeros_like(p);
  auto qkv = m->named_parameters()["blocks.0.qkv.weight"].clone();
  auto emb = m->named_parameters()["positions.weight"].clone();
  auto proj = m->named_parameters()["user_embedding_proj"].clone();
  opt->step();
  EXPECT_TRUE(torch::allclose(m->named_parameters()["blocks.0.qkv.weight"], qkv * 0.95));
  EXPECT_TRUE(torch::equal(m->named_parameters()["positions.weight"], emb));
  EXPECT_TRUE(torch::equal(m->named_parameters()["user_embedding_proj"], proj));
}

TEST(Optim, SetLrChangesEveryGroup) {
  Model m;
  auto opt = make_adamw(*m, OptimConfig{});
  EXPECT_DOUBLE_EQ(get_lr(*opt), 1e-3);
  set_lr(*opt, 0.25);
  for (auto& g : opt->param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.25);
}

TEST(Optim, CosineScheduleWithWarmup) {
  OptimConfig c;
  c.lr = 0.1;
  c.warmup_steps = 4;
  c.min_lr_ratio = 0.1;
  c.decay = "cosine";
  LrSchedule s(c, 14);                    // decay spans steps 4..14 (10 steps)
  EXPECT_NEAR(s.lr_at(0), 0.025, 1e-12);  // 0.1 * 1/4
  EXPECT_NEAR(s.lr_at(1), 0.05, 1e-12);   // 0.1 * 2/4
  EXPECT_NEAR(s.lr_at(3), 0.1, 1e-12);    // 0.1 * 4/4
  EXPECT_NEAR(s.lr_at(4), 0.1, 1e-12);    // p = 0: 0.1 * (0.1 + 0.9 * 1)
  // p = 0.2: (1 + cos(0.2 pi)) / 2 = (1 + 0.8090169944) / 2 = 0.9045084972;
  // 0.1 * (0.1 + 0.9 * 0.9045084972) = 0.0914057647
  EXPECT_NEAR(s.lr_at(6), 0.0914057647, 1e-10);
  EXPECT_NEAR(s.lr_at(9), 0.055, 1e-12);  // p = 0.5: 0.1 * (0.1 + 0.9 * 0.5)
  EXPECT_NEAR(s.lr_at(14), 0.01, 1e-12);  // p = 1: min_lr_ratio * lr
  EXPECT_NEAR(s.lr_at(1000), 0.01, 1e-12);
}

TEST(Optim, LinearAndConstantSchedules) {
  OptimConfig c;
  c.lr = 0.1;
  c.warmup_steps = 4;
  c.min_lr_ratio = 0.1;
  c.decay = "linear";
  LrSchedule lin(c, 14);
  EXPECT_NEAR(lin.lr_at(2), 0.075, 1e-12);  // warm-up 0.1 * 3/4
  EXPECT_NEAR(lin.lr_at(6), 0.082, 1e-12);  // p = 0.2: 0.1 * (0.1 + 0.9 * 0.8)
  EXPECT_NEAR(lin.lr_at(9), 0.055, 1e-12);  // p = 0.5
  EXPECT_NEAR(lin.lr_at(20), 0.01, 1e-12);
  c.decay = "constant";
  LrSchedule con(c, 14);
  EXPECT_NEAR(con.lr_at(0), 0.025, 1e-12);
  EXPECT_NEAR(con.lr_at(13), 0.1, 1e-12);
  EXPECT_NEAR(con.lr_at(500), 0.1, 1e-12);
  // No warm-up, min 0: cosine starts at lr and is at half after half the steps.
  OptimConfig d;
  d.lr = 2.0;
  LrSchedule cos0(d, 10);
  EXPECT_NEAR(cos0.lr_at(0), 2.0, 1e-12);
  EXPECT_NEAR(cos0.lr_at(5), 1.0, 1e-12);
  EXPECT_NEAR(cos0.lr_at(10), 0.0, 1e-12);
}

TEST(Optim, BadConfigIsRejected) {
  OptimConfig c;
  c.decay = "exponential";
  EXPECT_THROW(LrSchedule(c, 10), divrec::Error);
  c = OptimConfig{};
  c.beta2 = 1.0;
  Model m;
  EXPECT_THROW(make_adamw(*m, c), divrec::Error);
}
