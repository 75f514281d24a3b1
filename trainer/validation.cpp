// Exact distributed ranking metrics for validation (see validation.h).
#include "trainer/validation.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/comm/typed.h"
#include "trainer/batch.h"

namespace divrec::trainer {

int64_t rank_of_target(const float* scores, int64_t num_items, int32_t target) {
  const float t = scores[target];
  if (!std::isfinite(t)) return kUnrankedTarget;  // masked target: a miss at every K
  int64_t ahead = 0;  // ties rank ahead of the target; the target ties with itself once
  for (int64_t i = 0; i < num_items; ++i) ahead += scores[i] >= t;
  return ahead - 1;
}

std::map<std::string, double> evaluate_ranking(model::SeqModel& model,
                                               const data::UserSequences& seqs,
                                               const std::vector<int64_t>& users, data::Split split,
                                               const RankingConfig& cfg, core::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int64_t I = model->config().num_items;
  const torch::Device device = model->parameters().front().device();
  const size_t nk = cfg.ks.size();
  // sums: [hr@k..., ndcg@k..., mrr, s_hr@k..., s_ndcg@k...]; count: users with a target
  std::vector<double> sums(4 * nk + 1, 0.0);
  int64_t count = 0;
  std::vector<int64_t> batch;
  const float kMasked = -std::numeric_limits<float>::infinity();
  for (size_t start = 0; start < users.size(); start += cfg.batch_size) {
    batch.clear();
    for (size_t i = start; i < std::min(users.size(), start + cfg.batch_size); ++i) {
      auto [tb, te] = seqs.targets(users[i], split);
      if (te > tb && seqs.history_end(users[i], split) > 0) batch.push_back(users[i]);
    }
    if (batch.empty()) continue;
    auto hist = make_history_batch(seqs, batch, cfg.max_len, split);
    // Scores come back to the host in fp32 (bf16 under autocast) for the exact rank counts.
    auto scores = model->score_all(model->user_vectors(hist.inputs.to(device), cfg.causal))
                      .to(torch::kCPU, torch::kFloat)
                      .contiguous();
    auto* s = scores.data_ptr<float>();
    for (size_t b = 0; b < batch.size(); ++b) {
      int64_t u = batch[b];
      float* row = s + b * I;
      int32_t target = seqs.seq(u)[seqs.targets(u, split).first];
      float target_score = row[target];
      int64_t hend = seqs.history_end(u, split);
      for (int64_t i = 0; i < hend; ++i) row[seqs.seq(u)[i]] = kMasked;
      int64_t r = rank_of_target(row, I, target);
      for (size_t k = 0; k < nk; ++k) {
        if (r < cfg.ks[k]) {
          sums[k] += 1.0;
          sums[nk + k] += 1.0 / std::log2(static_cast<double>(r) + 2.0);
        }
      }
      sums[2 * nk] += r != kUnrankedTarget ? 1.0 / static_cast<double>(r + 1) : 0.0;
      if (cfg.sampled_99 && std::isfinite(row[target])) {
        // 99 negatives uniform over items not in the history and not the target, per user.
        std::mt19937_64 rng(cfg.seed ^ (static_cast<uint64_t>(seqs.user_ids[u]) * 0x9E3779B97F4A7C15ULL));
        std::uniform_int_distribution<int64_t> pick(0, I - 1);
        int64_t higher = 0, drawn = 0, guard = 0;
        while (drawn < 99 && guard++ < 100000) {
          int64_t j = pick(rng);
          if (j == target || !std::isfinite(row[j])) continue;
          higher += row[j] >= target_score;  // ties rank ahead of the target
          ++drawn;
        }
        for (size_t k = 0; k < nk; ++k) {
          if (higher < cfg.ks[k]) {
            sums[2 * nk + 1 + k] += 1.0;
            sums[3 * nk + 1 + k] += 1.0 / std::log2(static_cast<double>(higher) + 2.0);
          }
        }
      }
      ++count;
    }
  }
  core::allreduce_sum(comm, sums);
  int64_t total = core::allreduce_scalar<int64_t>(comm, count, core::ReduceOp::kSum);
  std::map<std::string, double> out;
  double n = total > 0 ? static_cast<double>(total) : 1.0;
  for (size_t k = 0; k < nk; ++k) {
    auto K = std::to_string(cfg.ks[k]);
    out["hr@" + K] = sums[k] / n;
    out["ndcg@" + K] = sums[nk + k] / n;
    if (cfg.sampled_99) {
      out["sampled_hr@" + K] = sums[2 * nk + 1 + k] / n;
      out["sampled_ndcg@" + K] = sums[3 * nk + 1 + k] / n;
    }
  }
  out["mrr"] = sums[2 * nk] / n;
  out["users"] = static_cast<double>(total);
  if (was_training) model->train();
  return out;
}

}  // namespace divrec::trainer
