// Cloze masking for masked-item (BERT4Rec-style) training: picks positions of real items to
// replace by [MASK] and returns the targets to predict there.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace divrec::trainer {

struct MaskedBatch {
  torch::Tensor inputs;     // [B, L] int64: input ids with the chosen positions set to [MASK]
  torch::Tensor positions;  // [M] int64 flat indices into B*L (row-major, ascending)
  torch::Tensor targets;    // [M] int64 item ids (input id - 1) that were masked
};

// input_ids: [B, L] int64 left-padded input ids (0 = pad, 1..I = items). Each real position is
// masked with probability mask_prob; padding is never masked; every non-empty row gets at least
// one mask (a uniformly chosen real position when the draw picked none). With probability
// last_only_prob a non-empty row instead masks only its last item (column L-1), as BERT4Rec
// does to match next-item inference. Deterministic given the generator state.
MaskedBatch mask_sequences(const torch::Tensor& input_ids, double mask_prob, int64_t mask_token,
                           at::Generator& generator, double last_only_prob = 0.1);
// Same with a fresh CPU generator seeded with `seed`.
MaskedBatch mask_sequences(const torch::Tensor& input_ids, double mask_prob, int64_t mask_token,
                           uint64_t seed, double last_only_prob = 0.1);

}  // namespace divrec::trainer
