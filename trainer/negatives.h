// NegativeSampler: negatives for the sampled losses, deterministic given a seed: uniform
// negatives that exclude the positive (BCE) and popularity-proportional shared negatives with
// their log q (sampled softmax with log-Q correction).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace divrec::trainer {

struct SharedNegatives {
  torch::Tensor items;  // [S] int64 item ids, drawn with replacement
  torch::Tensor log_q;  // [S] float32 log q(item)
};

class NegativeSampler {
 public:
  // q(i) proportional to (popularity[i] + smoothing)^power; popularity has one entry per item
  // (e.g. ItemTable::popularity, train split counts). power 0 = uniform.
  NegativeSampler(const std::vector<int64_t>& popularity, uint64_t seed, double power = 1.0,
                  double smoothing = 1.0);

  int64_t num_items() const { return num_items_; }
  // For every positive, k negatives uniform over the other I-1 items (no rejection loop:
  // draw r in [0, I-1) and skip over the positive). pos_items [N] -> [N] if k == 1 else [N, k].
  torch::Tensor uniform_excluding(const torch::Tensor& pos_items, int64_t k = 1);
  // S shared negatives drawn from q (inverse CDF over a precomputed table), with log q, from
  // shared_generator(): the trainer seeds it per step only, so every rank draws the same S
  // negatives (job-wide shared negatives: W ranks x B then compute what 1 rank x W B does).
  SharedNegatives popularity_shared(int64_t s);
  // log q of given item ids (any shape; for log_q_pos of the sampled softmax).
  torch::Tensor log_q(const torch::Tensor& items) const;
  // [I] float32 log q of every item.
  const torch::Tensor& log_q_table() const { return log_q_; }
  at::Generator& generator() { return generator_; }  // per-target negatives, in-batch picks
  at::Generator& shared_generator() { return shared_generator_; }

 private:
  int64_t num_items_;
  at::Generator generator_;
  at::Generator shared_generator_;
  torch::Tensor cdf_;    // [I] float64 cumulative q, last entry 1
  torch::Tensor log_q_;  // [I] float32
};

}  // namespace divrec::trainer
