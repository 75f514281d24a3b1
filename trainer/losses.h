// Training losses of the sequential recommender: SASRec binary cross-entropy, sampled softmax
// with log-Q correction, full-catalog softmax, and the calibration KL regulariser (Steck 2018).
// All take hidden states of the valid positions [N, D] and the tied item vector table [I, D].
#pragma once

#include <torch/torch.h>

namespace divrec::trainer {

// SASRec loss: mean over positions of -log sigmoid(s_pos) - sum_k log(1 - sigmoid(s_neg_k)),
// s = <hidden, item vector>. pos_items [N] int64; neg_items [N] (one negative per positive,
// exactly SASRec) or [N, K]. Only the needed rows of item_vecs are gathered.
torch::Tensor bce_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                       const torch::Tensor& neg_items, const torch::Tensor& item_vecs);

// Sampled softmax over {positive} + S shared negatives with log-Q correction: every logit is
// <hidden, item> - log q(item); a shared negative equal to the row's positive (accidental hit)
// gets -inf. Mean over positions of the cross-entropy of the positive.
// pos_items [N], neg_items [S] int64; log_q_pos [N], log_q_neg [S] float.
torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                                   const torch::Tensor& neg_items, const torch::Tensor& log_q_pos,
                                   const torch::Tensor& log_q_neg, const torch::Tensor& item_vecs);

// Softmax cross-entropy over the full catalog (materialises [N, I] logits), mean over N.
torch::Tensor full_ce_loss(const torch::Tensor& hidden, const torch::Tensor& pos_items,
                           const torch::Tensor& item_vecs);

// Category distribution of the recommendation distribution: q[u, c] = sum over items i of
// category c of softmax(logits[u])_i. Differentiable (index_add). logits [U, I],
// item_category [I] int64 in [0, C). Returns [U, C].
torch::Tensor category_distribution(const torch::Tensor& logits, const torch::Tensor& item_category,
                                    int64_t num_categories);

// Calibration (Steck 2018): mean over users of KL(p || q~), p = hist_cat_dist [U, C] (the
// categories of each user's history, rows sum to 1 or are all zero), q~ = (1-alpha) q + alpha p
// with q = category_distribution(logits). Terms with p = 0 contribute 0.
torch::Tensor calibration_kl(const torch::Tensor& logits, const torch::Tensor& item_category,
                             const torch::Tensor& hist_cat_dist, double alpha = 0.01);

}  // namespace divrec::trainer
