// One step's forward pass and loss (see step_loss.h).
#include "trainer/step_loss.h"

#include "data_shards/sampler.h"
#include "trainer/batch.h"
#include "trainer/losses.h"
#include "trainer/masking.h"

namespace divrec::trainer {

uint64_t step_seed(uint64_t seed, int64_t step, int rank) {
  return data::mix_seeds(seed, static_cast<uint64_t>(step) * 1024 + static_cast<uint64_t>(rank));
}

StepLoss::StepLoss(const TrainConfig& cfg, const model::ModelConfig& mc,
                   const data::UserSequences& seqs, const data::ItemTable& items)
    : cfg_(cfg),
      mc_(mc),
      seqs_(seqs),
      items_(items),
      negatives_(items.popularity, cfg.seed, cfg.loss == "bce" ? 0.0 : cfg.neg_power) {
  item_category_ = torch::tensor(std::vector<int64_t>(items.category.begin(), items.category.end()))
                       .clamp_min(0);
}

void StepLoss::seed_step(int64_t step, int rank) {
  torch::manual_seed(step_seed(cfg_.seed, step, rank));
  negatives_.generator().set_current_seed(step_seed(cfg_.seed + 1, step, rank));
  mask_seed_ = step_seed(cfg_.seed + 2, step, rank);
}

torch::Tensor StepLoss::next_item(model::SeqModel& model, const std::vector<int64_t>& users,
                                  const torch::Tensor& item_table, torch::Tensor* targets,
                                  torch::Tensor* last_hidden) {
  auto batch = make_next_item_batch(seqs_, users, mc_.max_len);
  if (cfg_.calibration_weight > 0) {
    // The calibration term needs each user's last position: keep the padded layout.
    auto h = model->encode(batch.inputs, true, item_table);
    auto mask = batch.targets.ge(0).flatten();
    *targets = batch.targets.flatten().index({mask});
    *last_hidden = h.select(1, h.size(1) - 1);
    return h.reshape({-1, mc_.dim}).index({mask});
  }
  // Packed: only real tokens (targets exist exactly at real input positions).
  auto packed = model->encode_packed(batch.inputs, true, item_table);
  *targets = batch.targets.flatten().index_select(0, packed.real_index);
  return packed.hidden;
}

torch::Tensor StepLoss::masked_item(model::SeqModel& model, const std::vector<int64_t>& users,
                                    const torch::Tensor& item_table, torch::Tensor* targets) {
  auto batch = make_history_batch(seqs_, users, mc_.max_len, data::Split::kTrain);
  auto masked = mask_sequences(batch.inputs, cfg_.mask_prob, model->mask_token(), mask_seed_);
  auto h = model->encode(masked.inputs, false, item_table);
  *targets = masked.targets;
  return h.reshape({-1, mc_.dim}).index_select(0, masked.positions);
}

torch::Tensor StepLoss::operator()(model::SeqModel& model, const std::vector<int64_t>& users,
                                   int64_t* n_targets) {
  const bool causal = cfg_.objective == "next-item";
  auto item_table = model->item_vectors();
  torch::Tensor targets, last_hidden;
  auto hidden = causal ? next_item(model, users, item_table, &targets, &last_hidden)
                       : masked_item(model, users, item_table, &targets);
  *n_targets = targets.numel();
  if (*n_targets == 0) return item_table.sum() * 0.0;
  torch::Tensor loss;
  if (cfg_.loss == "bce") {
    loss = bce_loss(hidden, targets, negatives_.uniform_excluding(targets), item_table);
  } else if (cfg_.loss == "sampled-softmax") {
    auto shared = negatives_.popularity_shared(cfg_.num_negatives);
    loss = sampled_softmax_loss(hidden, targets, shared.items, negatives_.log_q(targets),
                                shared.log_q, item_table);
  } else {
    loss = full_ce_loss(hidden, targets, item_table);
  }
  if (cfg_.calibration_weight > 0 && causal) {
    // Per-user term, weighted so that after the per-target mean it counts once per user.
    auto p = history_category_distribution(seqs_, users, items_, data::Split::kTrain);
    auto logits = torch::matmul(last_hidden, item_table.t());
    loss = loss + cfg_.calibration_weight * calibration_kl(logits, item_category_, p) *
                      (static_cast<double>(*n_targets) / static_cast<double>(users.size()));
  }
  return loss;
}

}  // namespace divrec::trainer
