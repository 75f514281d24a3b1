// EpochSampler (see sampler.h).
#include "data_shards/sampler.h"

#include "core/check.h"

namespace divrec::data {

uint64_t splitmix64_next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t mix_seeds(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b + 0x9E3779B97F4A7C15ULL + (a << 6) + (a >> 2));
  return splitmix64_next(&s);
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  DIVREC_CHECK(n >= 0 && epoch >= 0, "epoch_permutation: n = ", n, ", epoch = ", epoch);
  // Seed and epoch are mixed through splitmix64 so neighbouring seeds/epochs are unrelated.
  uint64_t state = seed;
  uint64_t mixed = splitmix64_next(&state) ^ static_cast<uint64_t>(epoch);
  state = mixed;
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(splitmix64_next(&state) % static_cast<uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

EpochSampler::EpochSampler(int64_t num_sequences, int64_t batch_per_rank, int rank, int world,
                           uint64_t seed)
    : n_(num_sequences), batch_(batch_per_rank), rank_(rank), world_(world), seed_(seed) {
  DIVREC_CHECK_HINT(num_sequences > 0, "the dataset has no users", "EpochSampler: ", num_sequences,
                    " sequences");
  DIVREC_CHECK_HINT(batch_per_rank > 0, "pass a positive --batch-size", "EpochSampler: batch ",
                    batch_per_rank);
  DIVREC_CHECK(world >= 1 && rank >= 0 && rank < world, "EpochSampler: rank ", rank, " of world ",
               world);
  int64_t global = batch_ * world_;
  batches_per_epoch_ = (n_ + global - 1) / global;
}

std::vector<int64_t> EpochSampler::batch(int64_t epoch, int64_t b) const {
  DIVREC_CHECK(b >= 0 && b < batches_per_epoch_, "EpochSampler: batch ", b, " of ",
               batches_per_epoch_);
  std::lock_guard<std::mutex> lock(cache_->mutex);
  if (epoch != cache_->epoch) {
    cache_->perm = epoch_permutation(n_, seed_, epoch);
    cache_->epoch = epoch;
  }
  const auto& perm = cache_->perm;
  std::vector<int64_t> out(static_cast<size_t>(batch_));
  int64_t first = b * batch_ * world_ + rank_ * batch_;
  for (int64_t k = 0; k < batch_; ++k) {
    out[static_cast<size_t>(k)] = perm[static_cast<size_t>((first + k) % n_)];
  }
  return out;
}

}  // namespace divrec::data
