// StepLoss: one training step's forward pass and loss on this rank's slice of a global batch,
// for every objective/loss pair (next-item with bce / sampled-softmax / full-ce and the optional
// calibration term; masked-item cloze). Two paths: the dense one encodes the whole catalog
// (full-ce, calibration); the sparse one encodes only the items the step touches.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data_shards/dataset.h"
#include "trainer/model/seq_model.h"
#include "trainer/negatives.h"
#include "trainer/sharded_item_table.h"
#include "trainer/train_config.h"

namespace divrec::trainer {

// Seeds of one step, so a resumed run replays exactly what the uninterrupted one would have
// done: a pure function of (seed, step, rank).
uint64_t step_seed(uint64_t seed, int64_t step, int rank);

// The step's inputs before any item is encoded: [B, L] input ids and the item id of every
// prediction target, with where in the packed / padded hidden states they sit.
struct StepTargets {
  torch::Tensor inputs;     // [B, L] int64 input ids (masked-item: with [MASK] tokens)
  torch::Tensor targets;    // [N] int64 item ids
  torch::Tensor positions;  // masked-item: [N] flat indices into B*L; next-item: undefined
};

class StepLoss {
 public:
  // References must outlive the object. table: the sparse item table (touched-items path), or
  // null for the dense path (the model then owns its item-id table). device: where the model
  // lives; batches, negatives and the loss go there (sampling stays on the CPU generators, so a
  // seed fixes the draws on every device). The sparse table stays in host memory: its rows are
  // looked up on the CPU and copied to the device, and their gradient flows back through the
  // copy.
  StepLoss(const TrainConfig& cfg, const model::ModelConfig& mc, const data::UserSequences& seqs,
           const data::ItemTable& items, ShardedItemTable* table,
           torch::Device device = torch::kCPU);

  // Seeds dropout, negatives and masks for (step, rank); call before operator().
  void seed_step(int64_t step, int rank);
  // Local mean loss over this rank's targets; *n_targets = their number (the loop forms the
  // exact global mean from the all-reduced count). With no target the loss is 0 * (item
  // vectors), so the parameters still get (zero) gradients and the buckets stay aligned. On the
  // sparse path this calls table->lookup (collective when row-wise) exactly once.
  torch::Tensor operator()(model::SeqModel& model, const std::vector<int64_t>& users,
                           int64_t* n_targets);
  // Unique items the last sparse step encoded (0 on the dense path).
  int64_t last_unique_items() const { return last_unique_; }

 private:
  StepTargets make_targets(model::SeqModel& model, const std::vector<int64_t>& users) const;
  StepTargets to_device(StepTargets st) const;  // the batch's tensors onto device_
  torch::Tensor dense_step(model::SeqModel& model, const std::vector<int64_t>& users,
                           const StepTargets& st);
  torch::Tensor sparse_step(model::SeqModel& model, const StepTargets& st);

  const TrainConfig& cfg_;
  const model::ModelConfig& mc_;
  const data::UserSequences& seqs_;
  const data::ItemTable& items_;
  ShardedItemTable* table_;
  torch::Device device_;
  NegativeSampler negatives_;
  torch::Tensor log_p_target_;   // [I] float32 log of the train unigram distribution (in-batch)
  torch::Tensor item_category_;  // [I] int64, uncategorised items counted in category 0
  uint64_t mask_seed_ = 0;
  int64_t last_unique_ = 0;
};

}  // namespace divrec::trainer
