// One step's forward pass and loss (see step_loss.h). The sparse path: negatives are drawn
// first, then the unique items of inputs, targets and negatives are encoded once ([U, D]) and
// every id is remapped onto them, so no [I, D] tensor exists and the id table's gradient is
// the [U, D] gradient of the looked-up rows.
#include "trainer/step_loss.h"

#include <cmath>

#include "core/check.h"
#include "data_shards/sampler.h"
#include "trainer/batch.h"
#include "trainer/losses.h"
#include "trainer/masking.h"

namespace divrec::trainer {

uint64_t step_seed(uint64_t seed, int64_t step, int rank) {
  return data::mix_seeds(seed, static_cast<uint64_t>(step) * 1024 + static_cast<uint64_t>(rank));
}

StepLoss::StepLoss(const TrainConfig& cfg, const model::ModelConfig& mc,
                   const data::UserSequences& seqs, const data::ItemTable& items,
                   ShardedItemTable* table, torch::Device device)
    : cfg_(cfg),
      mc_(mc),
      seqs_(seqs),
      items_(items),
      table_(table),
      device_(device),
      negatives_(items.popularity, cfg.seed, cfg.loss == "bce" ? 0.0 : cfg.neg_power) {
  item_category_ = torch::tensor(std::vector<int64_t>(items.category.begin(), items.category.end()))
                       .clamp_min(0)
                       .to(device_);
  // In-batch negatives are other rows' targets: drawn from the train unigram distribution
  // (add-one smoothed so that log p is finite).
  auto pop = torch::tensor(items.popularity, torch::kFloat64) + 1.0;
  log_p_target_ = torch::log(pop / pop.sum()).to(device_, torch::kFloat32);
}

void StepLoss::seed_step(int64_t step, int rank) {
  torch::manual_seed(step_seed(cfg_.seed, step, rank));
  negatives_.generator().set_current_seed(step_seed(cfg_.seed + 1, step, rank));
  // Shared negatives: one draw per step for the whole job (no rank in the seed).
  negatives_.shared_generator().set_current_seed(step_seed(cfg_.seed + 3, step, 0));
  mask_seed_ = step_seed(cfg_.seed + 2, step, rank);
}

StepTargets StepLoss::make_targets(model::SeqModel& model,
                                   const std::vector<int64_t>& users) const {
  StepTargets st;
  if (cfg_.objective == "next-item") {
    auto batch = make_next_item_batch(seqs_, users, mc_.max_len);
    st.inputs = batch.inputs;
    // Targets exist exactly at the real input positions (row-major, as encode_packed packs).
    st.targets = batch.targets.flatten().index({batch.inputs.flatten().ne(0)});
    return to_device(std::move(st));
  }
  auto batch = make_history_batch(seqs_, users, mc_.max_len, data::Split::kTrain);
  auto masked = mask_sequences(batch.inputs, cfg_.mask_prob, model->mask_token(), mask_seed_);
  st.inputs = masked.inputs;
  st.targets = masked.targets;
  st.positions = masked.positions;
  return to_device(std::move(st));
}

StepTargets StepLoss::to_device(StepTargets st) const {
  if (device_.is_cpu()) return st;
  // Pinned staging, then asynchronous copies (the batch is built on the CPU).
  auto move = [&](const torch::Tensor& t) {
    return t.pin_memory().to(device_, /*non_blocking=*/true);
  };
  st.inputs = move(st.inputs);
  st.targets = move(st.targets);
  if (st.positions.defined()) st.positions = move(st.positions);
  return st;
}

torch::Tensor StepLoss::dense_step(model::SeqModel& model, const std::vector<int64_t>& users,
                                   const StepTargets& st) {
  const bool causal = cfg_.objective == "next-item";
  auto item_table = model->item_vectors();
  torch::Tensor hidden, last_hidden;
  if (causal && cfg_.calibration_weight > 0) {
    // The calibration term needs each user's last position: keep the padded layout.
    auto h = model->encode(st.inputs, true, item_table);
    hidden = h.reshape({-1, mc_.dim}).index({st.inputs.flatten().ne(0)});
    last_hidden = h.select(1, h.size(1) - 1);
  } else if (causal) {
    hidden = model->encode_packed(st.inputs, true, item_table).hidden;
  } else {
    hidden = model->encode(st.inputs, false, item_table)
                 .reshape({-1, mc_.dim})
                 .index_select(0, st.positions);
  }
  const int64_t n = st.targets.numel();
  if (n == 0) return item_table.sum() * 0.0;
  torch::Tensor loss;
  if (cfg_.loss == "bce") {
    loss = bce_loss(hidden, st.targets, negatives_.uniform_excluding(st.targets), item_table);
  } else if (cfg_.loss == "sampled-softmax") {
    auto shared = negatives_.popularity_shared(cfg_.num_negatives);
    loss = sampled_softmax_loss(hidden, st.targets, shared.items.to(device_),
                                negatives_.log_q(st.targets), shared.log_q.to(device_), item_table);
  } else {
    loss = full_ce_loss(hidden, st.targets, item_table);
  }
  if (cfg_.calibration_weight > 0 && causal) {
    // Per-user term, weighted so that after the per-target mean it counts once per user.
    auto p =
        history_category_distribution(seqs_, users, items_, data::Split::kTrain).to(device_);
    auto logits = torch::matmul(last_hidden, item_table.t());
    loss = loss + cfg_.calibration_weight * calibration_kl(logits, item_category_, p) *
                      (static_cast<double>(n) / static_cast<double>(users.size()));
  }
  return loss;
}

torch::Tensor StepLoss::sparse_step(model::SeqModel& model, const StepTargets& st) {
  const bool causal = cfg_.objective == "next-item";
  const int64_t n = st.targets.numel();
  const int64_t num_items = mc_.num_items;
  // Negatives first: they decide which items the step touches.
  torch::Tensor negs, log_q_pos, log_q_neg;
  if (n > 0 && cfg_.loss == "bce") {
    negs = negatives_.uniform_excluding(st.targets);
  } else if (n > 0) {
    auto shared = negatives_.popularity_shared(cfg_.num_negatives);
    shared.items = shared.items.to(device_);
    shared.log_q = shared.log_q.to(device_);
    const int64_t m = std::min<int64_t>(cfg_.in_batch_negatives, n);
    if (m == 0) {
      negs = shared.items;
      log_q_neg = shared.log_q;
      log_q_pos = negatives_.log_q(st.targets);
    } else {
      // Mixed negative sampling (Yang et al., WWW 2020): S popularity draws + M of this rank's
      // targets. log-Q correction per source with its expected count (Yi et al., RecSys 2019):
      // log(S q_i) for the popularity draws, log(M p_i) for in-batch ones, and the mixture
      // log(S q + M p) for the positive.
      const auto pick =
          torch::randperm(n, negatives_.generator(), torch::kInt64).narrow(0, 0, m).to(device_);
      const auto in_batch = st.targets.index_select(0, pick);
      const double ls = std::log(static_cast<double>(cfg_.num_negatives));
      const double lm = std::log(static_cast<double>(m));
      negs = torch::cat({shared.items, in_batch});
      log_q_neg = torch::cat({shared.log_q + ls, log_p_target_.index_select(0, in_batch) + lm});
      log_q_pos = torch::logaddexp(negatives_.log_q(st.targets) + ls,
                                   log_p_target_.index_select(0, st.targets) + lm);
    }
  }
  const auto flat_inputs = st.inputs.flatten();
  const auto real = flat_inputs.ge(1) & flat_inputs.le(num_items);
  std::vector<torch::Tensor> parts = {flat_inputs.index({real}) - 1, st.targets};
  if (negs.defined()) parts.push_back(negs.flatten());
  const auto ids = std::get<0>(torch::_unique(torch::cat(parts), /*sorted=*/true));
  last_unique_ = ids.numel();

  auto& encoder = model->item_encoder();
  torch::Tensor id_rows;
  if (encoder->has_id_feature()) {
    DIVREC_CHECK(table_ != nullptr, "sparse step: the model uses item ids but has no item table");
    // Collective when row-wise: every rank, every step. A table in host memory under a GPU
    // model (--item-table-memory host): the rows are copied over and their gradient comes back
    // through the copy; on the model's device, both .to() are no-ops.
    id_rows = table_->lookup(ids.to(table_->device())).to(device_);
  }
  if (n == 0) {
    // Zero loss that still reaches every dense parameter (their buckets stay aligned).
    auto zero = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
    for (const auto& p : model->parameters()) zero = zero + p.sum() * 0.0;
    return id_rows.defined() ? zero + id_rows.sum() * 0.0 : zero;
  }
  const auto vecs = encoder->forward_items(ids, id_rows);  // [U, D]
  auto local = [&](const torch::Tensor& items) { return torch::searchsorted(ids, items); };
  torch::Tensor hidden;
  if (causal) {
    hidden = model->encode_packed(st.inputs, true, vecs, ids).hidden;
  } else {
    hidden = model->encode(st.inputs, false, vecs, ids)
                 .reshape({-1, mc_.dim})
                 .index_select(0, st.positions);
  }
  const auto pos = local(st.targets);
  if (cfg_.loss == "bce") return bce_loss(hidden, pos, local(negs), vecs);
  return sampled_softmax_loss(hidden, pos, local(negs), log_q_pos, log_q_neg, vecs);
}

torch::Tensor StepLoss::operator()(model::SeqModel& model, const std::vector<int64_t>& users,
                                   int64_t* n_targets) {
  const auto st = make_targets(model, users);
  *n_targets = st.targets.numel();
  return cfg_.sparse_item_table ? sparse_step(model, st) : dense_step(model, users, st);
}

}  // namespace divrec::trainer
