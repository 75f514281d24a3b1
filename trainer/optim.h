// The optimizer side of training: AdamW with a decay / no-decay parameter split, and the
// learning-rate schedule (linear warm-up, then cosine / linear decay or constant).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace divrec::trainer {

struct OptimConfig {
  double lr = 1e-3;
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  int64_t warmup_steps = 0;
  std::string decay = "cosine";  // "cosine" | "linear" | "constant"
  double min_lr_ratio = 0.0;     // the decay ends at min_lr_ratio * lr
  double clip_norm = 1.0;        // global gradient norm clip (<= 0: off); see clip_grad_norm
};

// Throws naming the option when a value is out of range or decay is unknown.
void validate(const OptimConfig& config);

// Weight decay applies to matrices of linear layers only. A parameter gets NO decay when
//   * it has fewer than 2 dimensions (biases, LayerNorm gains/shifts, single vectors such as
//     "item_encoder.mask_embedding"), or
//   * its dotted name, lower-cased, contains "embedding", "bias" or "norm", or
//   * (param_groups(module) only) it belongs to an Embedding, EmbeddingBag or LayerNorm module,
//     which catches tables named e.g. "item_encoder.item_id.weight" or "positions.weight".
bool no_weight_decay_by_name(const std::string& name, const torch::Tensor& param);

struct ParamGroups {
  std::vector<std::string> decay_names;
  std::vector<torch::Tensor> decay;
  std::vector<std::string> no_decay_names;
  std::vector<torch::Tensor> no_decay;
};
// Trainable parameters of the module in registration order, split by the rule above.
ParamGroups param_groups(const torch::nn::Module& module);

// AdamW over two groups: group 0 = decay (config.weight_decay), group 1 = no decay (0).
// An empty group is left out (so a model without decayed weights has one group).
std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& module,
                                                const OptimConfig& config);
std::unique_ptr<torch::optim::AdamW> make_adamw(const ParamGroups& groups,
                                                const OptimConfig& config);

// Moves AdamW's per-parameter state (exp_avg, exp_avg_sq, max_exp_avg_sq) to `device`: a
// checkpoint's optimizer state is read on the CPU, and a run resumed on a GPU keeps it there.
void move_optimizer_state(torch::optim::AdamW& optimizer, const torch::Device& device);

// lr_at(step) is the learning rate of the update with 0-based index `step`:
//   warm-up (step < W):   lr * (step + 1) / W           (the first update is not wasted at 0)
//   decay   (W <= step):  p = min(1, (step - W) / max(1, total_steps - W))
//                         cosine: lr * (m + (1 - m) * (1 + cos(pi * p)) / 2)
//                         linear: lr * (m + (1 - m) * (1 - p))
//                         constant: lr
// with m = min_lr_ratio; from total_steps on the rate stays at m * lr (cosine / linear).
class LrSchedule {
 public:
  LrSchedule(const OptimConfig& config, int64_t total_steps);
  double lr_at(int64_t step) const;
  int64_t total_steps() const { return total_steps_; }

 private:
  OptimConfig config_;
  int64_t total_steps_;
};

// Sets the learning rate of every parameter group.
void set_lr(torch::optim::Optimizer& optimizer, double lr);
// The learning rate of parameter group 0.
double get_lr(const torch::optim::Optimizer& optimizer);

}  // namespace divrec::trainer
