// Training losses (see losses.h). Only [N, K]- or [N, S]-sized logits are built for the sampled
// losses; the full [N, I] matrix exists only in full_ce_loss and calibration_kl.
#include "trainer/losses.h"

#include <limits>

#include "core/check.h"
#include "trainer/model/precision.h"

namespace divrec::trainer {

namespace {
void check_hidden_and_table(const char* fn, const torch::Tensor& hidden,
                            const torch::Tensor& item_vecs) {
  DIVREC_CHECK(hidden.dim() == 2 && item_vecs.dim() == 2 && hidden.size(1) == item_vecs.size(1), fn,
               ": hidden must be [N, D] and item_vecs [I, D]; got ", hidden.sizes(), " and ",
               item_vecs.sizes());
}
void check_items(const char* fn, const char* what, const torch::Tensor& items, int64_t n) {
  DIVREC_CHECK(items.scalar_type() == torch::kInt64 && items.dim() >= 1 && items.size(0) == n, fn,
               ": ", what, " must be int64 with ", n, " rows, got ", items.scalar_type(), " ",
               items.sizes());
}
}  // namespace

torch::Tensor bce_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                       const torch::Tensor& neg_items, const torch::Tensor& item_vecs) {
  check_hidden_and_table("bce_loss", hidden, item_vecs);
  const int64_t n = hidden.size(0);
  check_items("bce_loss", "pos_items", pos_items, n);
  check_items("bce_loss", "neg_items", neg_items, n);
  DIVREC_CHECK(pos_items.dim() == 1 && neg_items.dim() <= 2,
               "bce_loss: pos_items must be [N] and neg_items [N] or [N, K]");
  const auto pos_logit = (hidden * item_vecs.index_select(0, pos_items)).sum(-1);  // [N]
  const auto negs = neg_items.reshape({n, -1});                                    // [N, K]
  const auto neg_vecs = item_vecs.index_select(0, negs.reshape({-1})).view({n, negs.size(1), -1});
  // Logits in fp32 (the product may run in bf16 under autocast): the loss accumulates in fp32.
  const auto neg_logit = model::to_fp32(torch::bmm(neg_vecs, hidden.unsqueeze(2)).squeeze(2));
  // -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x).
  return (torch::softplus(-pos_logit) + torch::softplus(neg_logit).sum(1)).mean();
}

torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                                   const torch::Tensor& neg_items, const torch::Tensor& log_q_pos,
                                   const torch::Tensor& log_q_neg, const torch::Tensor& item_vecs) {
  check_hidden_and_table("sampled_softmax_loss", hidden, item_vecs);
  const int64_t n = hidden.size(0);
  check_items("sampled_softmax_loss", "pos_items", pos_items, n);
  DIVREC_CHECK(
      pos_items.dim() == 1 && neg_items.dim() == 1 && neg_items.scalar_type() == torch::kInt64,
      "sampled_softmax_loss: pos_items must be [N] and neg_items [S] int64");
  DIVREC_CHECK(log_q_pos.sizes() == pos_items.sizes() && log_q_neg.sizes() == neg_items.sizes(),
               "sampled_softmax_loss: log_q_pos must be [N] and log_q_neg [S]; got ",
               log_q_pos.sizes(), " and ", log_q_neg.sizes());
  const auto pos_logit = (hidden * item_vecs.index_select(0, pos_items)).sum(-1) - log_q_pos;
  auto neg_logit =
      model::to_fp32(torch::matmul(hidden, item_vecs.index_select(0, neg_items).t())) -
      log_q_neg.unsqueeze(0);  // [N, S]
  const auto hit = neg_items.unsqueeze(0).eq(pos_items.unsqueeze(1));
  neg_logit = neg_logit.masked_fill(hit, -std::numeric_limits<double>::infinity());
  const auto logits = torch::cat({pos_logit.unsqueeze(1), neg_logit}, 1);  // [N, 1 + S]
  return (torch::logsumexp(logits, 1) - pos_logit).mean();
}

torch::Tensor full_ce_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                           const torch::Tensor& item_vecs) {
  check_hidden_and_table("full_ce_loss", hidden, item_vecs);
  check_items("full_ce_loss", "pos_items", pos_items, hidden.size(0));
  const auto logits = model::to_fp32(torch::matmul(hidden, item_vecs.t()));  // [N, I]
  return torch::nn::functional::cross_entropy(logits, pos_items);
}

torch::Tensor category_distribution(const torch::Tensor& logits, const torch::Tensor& item_category,
                                    int64_t num_categories) {
  DIVREC_CHECK(logits.dim() == 2 && item_category.dim() == 1 &&
                   item_category.size(0) == logits.size(1) &&
                   item_category.scalar_type() == torch::kInt64,
               "category_distribution: logits must be [U, I] and item_category [I] int64; got ",
               logits.sizes(), " and ", item_category.sizes());
  const auto probs = torch::softmax(model::to_fp32(logits), 1);
  const auto zeros = torch::zeros({logits.size(0), num_categories}, probs.options());
  return zeros.index_add(1, item_category, probs);
}

torch::Tensor calibration_kl(const torch::Tensor& logits, const torch::Tensor& item_category,
                             const torch::Tensor& hist_cat_dist, double alpha) {
  DIVREC_CHECK(hist_cat_dist.dim() == 2 && hist_cat_dist.size(0) == logits.size(0),
               "calibration_kl: hist_cat_dist must be [U, C] with U = ", logits.size(0), ", got ",
               hist_cat_dist.sizes());
  DIVREC_CHECK(alpha >= 0.0 && alpha < 1.0, "calibration_kl: alpha must be in [0, 1), got ", alpha);
  const auto& p = hist_cat_dist;
  const auto q = category_distribution(logits, item_category, p.size(1));
  const auto q_smooth = (1.0 - alpha) * q + alpha * p;
  // p log p - p log q~, with 0 log 0 = 0; the clamp keeps the gradient p / q~ finite where
  // p = 0 and q~ underflows.
  const auto kl = torch::xlogy(p, p) - p * torch::log(q_smooth.clamp_min(1e-30));
  return kl.sum(1).mean();
}

}  // namespace divrec::trainer
