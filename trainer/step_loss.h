// StepLoss: one training step's forward pass and loss on this rank's slice of a global batch,
// for every objective/loss pair (next-item with bce / sampled-softmax / full-ce and the optional
// calibration term; masked-item cloze). The loop in trainer.cpp owns the rest of the step.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data_shards/dataset.h"
#include "trainer/model/seq_model.h"
#include "trainer/negatives.h"
#include "trainer/train_config.h"

namespace divrec::trainer {

// Seeds of one step, so a resumed run replays exactly what the uninterrupted one would have
// done: a pure function of (seed, step, rank).
uint64_t step_seed(uint64_t seed, int64_t step, int rank);

class StepLoss {
 public:
  // References must outlive the object.
  StepLoss(const TrainConfig& cfg, const model::ModelConfig& mc, const data::UserSequences& seqs,
           const data::ItemTable& items);

  // Seeds dropout, negatives and masks for (step, rank); call before operator().
  void seed_step(int64_t step, int rank);
  // Local mean loss over this rank's targets; *n_targets = their number (the loop forms the
  // exact global mean from the all-reduced count). With no target the loss is 0 * sum(items), so
  // every parameter still gets a (zero) gradient and the gradient buckets stay aligned.
  torch::Tensor operator()(model::SeqModel& model, const std::vector<int64_t>& users,
                           int64_t* n_targets);

 private:
  torch::Tensor next_item(model::SeqModel& model, const std::vector<int64_t>& users,
                          const torch::Tensor& item_table, torch::Tensor* targets,
                          torch::Tensor* last_hidden);
  torch::Tensor masked_item(model::SeqModel& model, const std::vector<int64_t>& users,
                            const torch::Tensor& item_table, torch::Tensor* targets);

  const TrainConfig& cfg_;
  const model::ModelConfig& mc_;
  const data::UserSequences& seqs_;
  const data::ItemTable& items_;
  NegativeSampler negatives_;
  torch::Tensor item_category_;  // [I] int64, uncategorised items counted in category 0
  uint64_t mask_seed_ = 0;
};

}  // namespace divrec::trainer
