// Turns users' sequences into model inputs: left-padded input-id tensors padded only to the
// batch's longest row (dynamic padding: positions count from the most recent item, so this
// equals max_len padding at a fraction of the cost), with next-item targets where training.
#pragma once

#include <torch/types.h>

#include <vector>

#include "data_shards/dataset.h"

namespace divrec::trainer {

struct SeqBatch {
  torch::Tensor inputs;   // [B, L] int64 input ids (0 = pad, 1..I = items)
  torch::Tensor targets;  // [B, L] int64 next item ids, -1 where there is none (next-item only)
  int64_t num_targets = 0;
  int64_t num_tokens = 0;  // real (non-pad) input tokens
};

// Next-item training (SASRec): for the train prefix p = items[0, valid_start), inputs are the
// last max_len items of p[0, n-1) and targets the matching items of p[1, n).
SeqBatch make_next_item_batch(const data::UserSequences& seqs, const std::vector<int64_t>& users,
                              int64_t max_len);

// Histories for training the masked-item objective or for scoring: the last `max_len` items of
// items[0, end) where end = history_end(u, split) (kTrain: the train prefix). targets undefined.
SeqBatch make_history_batch(const data::UserSequences& seqs, const std::vector<int64_t>& users,
                            int64_t max_len, data::Split split);

// [B, C] category distribution of each user's history under `split` (rows sum to 1; a user
// whose history has no categorised item gets a zero row). Used by the calibration term.
torch::Tensor history_category_distribution(const data::UserSequences& seqs,
                                            const std::vector<int64_t>& users,
                                            const data::ItemTable& items, data::Split split);

}  // namespace divrec::trainer
