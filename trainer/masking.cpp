// Cloze masking (see masking.h): vectorised over the batch, drawn on the CPU.
#include "trainer/masking.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/check.h"

namespace divrec::trainer {

MaskedBatch mask_sequences(const torch::Tensor& input_ids, double mask_prob, int64_t mask_token,
                           at::Generator& generator, double last_only_prob) {
  DIVREC_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == torch::kInt64,
               "mask_sequences: input ids must be [B, L] int64, got ", input_ids.sizes());
  DIVREC_CHECK(
      mask_prob > 0.0 && mask_prob <= 1.0 && last_only_prob >= 0.0 && last_only_prob <= 1.0,
      "mask_sequences: mask_prob must be in (0, 1] and last_only_prob in [0, 1]; got ", mask_prob,
      ", ", last_only_prob);
  const auto ids = input_ids.to(torch::kCPU);
  const int64_t b = ids.size(0);
  const int64_t l = ids.size(1);
  const auto real = ids.ne(0);
  const auto nonempty = real.any(1);  // [B]

  auto masked = real & torch::rand({b, l}, generator, torch::kFloat64).lt(mask_prob);
  // Rows whose draw picked nothing: mask the real position with the largest random key,
  // i.e. a uniformly chosen one.
  const auto keys =
      torch::rand({b, l}, generator, torch::kFloat64).masked_fill(real.logical_not(), -1.0);
  const auto pick = keys.argmax(1);  // [B]
  const auto forced = torch::zeros({b, l}, real.options())
                          .scatter(1, pick.unsqueeze(1), torch::ones({b, 1}, real.options()));
  const auto need = (nonempty & masked.any(1).logical_not()).unsqueeze(1);
  masked = masked | (forced & need);
  // Last-only rows: mask exactly column L-1 (the most recent item of a left-padded row).
  if (l > 0) {
    const auto last_only =
        nonempty & torch::rand({b}, generator, torch::kFloat64).lt(last_only_prob);
    auto last_col = torch::zeros({b, l}, real.options());
    last_col.select(1, l - 1).fill_(true);
    masked = torch::where(last_only.unsqueeze(1), last_col & real, masked);
  }

  MaskedBatch out;
  out.inputs = ids.masked_fill(masked, mask_token).to(input_ids.device());
  const auto flat_mask = masked.reshape({-1});
  const auto positions = flat_mask.nonzero().reshape({-1});
  out.targets = (ids.reshape({-1}).index_select(0, positions) - 1).to(input_ids.device());
  out.positions = positions.to(input_ids.device());
  return out;
}

MaskedBatch mask_sequences(const torch::Tensor& input_ids, double mask_prob, int64_t mask_token,
                           uint64_t seed, double last_only_prob) {
  auto gen = at::detail::createCPUGenerator(seed);
  return mask_sequences(input_ids, mask_prob, mask_token, gen, last_only_prob);
}

}  // namespace divrec::trainer
