// AdamW parameter groups and the learning-rate schedule (see optim.h).
#include "trainer/optim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_set>

#include "core/check.h"

namespace divrec::trainer {

void validate(const OptimConfig& c) {
  DIVREC_CHECK(c.lr > 0 && std::isfinite(c.lr), "optimizer lr must be positive, got ", c.lr);
  DIVREC_CHECK(c.weight_decay >= 0, "optimizer weight_decay must be >= 0, got ", c.weight_decay);
  DIVREC_CHECK(c.beta1 >= 0 && c.beta1 < 1, "optimizer beta1 must be in [0, 1), got ", c.beta1);
  DIVREC_CHECK(c.beta2 >= 0 && c.beta2 < 1, "optimizer beta2 must be in [0, 1), got ", c.beta2);
  DIVREC_CHECK(c.eps >= 0, "optimizer eps must be >= 0, got ", c.eps);
  DIVREC_CHECK(c.warmup_steps >= 0, "warmup_steps must be >= 0, got ", c.warmup_steps);
  DIVREC_CHECK(c.decay == "cosine" || c.decay == "linear" || c.decay == "constant",
               "lr decay must be cosine, linear or constant, got '", c.decay, "'");
  DIVREC_CHECK(c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1], got ",
               c.min_lr_ratio);
}

bool no_weight_decay_by_name(const std::string& name, const torch::Tensor& param) {
  if (param.dim() < 2) return true;
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* word : {"embedding", "bias", "norm"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

ParamGroups param_groups(const torch::nn::Module& module) {
  // Parameters owned (directly) by embedding tables and LayerNorms, by address.
  std::unordered_set<const void*> by_type;
  for (const auto& item : module.named_modules("", /*include_self=*/false)) {
    const auto* m = item.value().get();
    if (dynamic_cast<const torch::nn::EmbeddingImpl*>(m) ||
        dynamic_cast<const torch::nn::EmbeddingBagImpl*>(m) ||
        dynamic_cast<const torch::nn::LayerNormImpl*>(m)) {
      for (const auto& p : m->parameters(/*recurse=*/false))
        by_type.insert(p.unsafeGetTensorImpl());
    }
  }
  ParamGroups out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const auto& p = item.value();
    if (!p.requires_grad()) continue;
    if (by_type.count(p.unsafeGetTensorImpl()) || no_weight_decay_by_name(item.key(), p)) {
      out.no_decay_names.push_back(item.key());
      out.no_decay.push_back(p);
    } else {
      out.decay_names.push_back(item.key());
      out.decay.push_back(p);
    }
  }
  return out;
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const ParamGroups& groups,
                                                const OptimConfig& config) {
  validate(config);
  auto options = torch::optim::AdamWOptions(config.lr)
                     .betas({config.beta1, config.beta2})
                     .eps(config.eps)
                     .weight_decay(config.weight_decay);
  std::vector<torch::optim::OptimizerParamGroup> list;
  if (!groups.decay.empty()) {
    list.emplace_back(groups.decay, std::make_unique<torch::optim::AdamWOptions>(options));
  }
  if (!groups.no_decay.empty()) {
    auto no_decay = options;
    no_decay.weight_decay(0.0);
    list.emplace_back(groups.no_decay, std::make_unique<torch::optim::AdamWOptions>(no_decay));
  }
  DIVREC_CHECK(!list.empty(), "the model has no trainable parameters to optimize");
  return std::make_unique<torch::optim::AdamW>(std::move(list), options);
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& module,
                                                const OptimConfig& config) {
  return make_adamw(param_groups(module), config);
}

LrSchedule::LrSchedule(const OptimConfig& config, int64_t total_steps)
    : config_(config), total_steps_(total_steps) {
  validate(config_);
  DIVREC_CHECK(total_steps >= 0, "total_steps must be >= 0, got ", total_steps);
}

double LrSchedule::lr_at(int64_t step) const {
  const double lr = config_.lr;
  const int64_t warm = config_.warmup_steps;
  if (step < 0) step = 0;
  if (step < warm) return lr * static_cast<double>(step + 1) / static_cast<double>(warm);
  if (config_.decay == "constant") return lr;
  double span = static_cast<double>(std::max<int64_t>(1, total_steps_ - warm));
  double p = std::min(1.0, static_cast<double>(step - warm) / span);
  double m = config_.min_lr_ratio;
  if (config_.decay == "cosine") return lr * (m + (1 - m) * 0.5 * (1 + std::cos(M_PI * p)));
  return lr * (m + (1 - m) * (1 - p));
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double get_lr(const torch::optim::Optimizer& optimizer) {
  DIVREC_CHECK(!optimizer.param_groups().empty(), "optimizer has no parameter groups");
  return optimizer.param_groups().front().options().get_lr();
}

void move_optimizer_state(torch::optim::AdamW& optimizer, const torch::Device& device) {
  for (auto& kv : optimizer.state()) {
    auto* st = dynamic_cast<torch::optim::AdamWParamState*>(kv.second.get());
    if (st == nullptr) continue;
    st->exp_avg(st->exp_avg().to(device));
    st->exp_avg_sq(st->exp_avg_sq().to(device));
    if (st->max_exp_avg_sq().defined()) st->max_exp_avg_sq(st->max_exp_avg_sq().to(device));
  }
}

}  // namespace divrec::trainer
