// EpochSampler: which sequences each rank trains on in each step. Every rank holds the same
// UserSequences (read_all_users); per epoch a permutation of [0, n) that depends only on
// (seed, epoch) is cut into global batches of batch_per_rank * world positions (wrapping around
// so every batch is full), and rank r takes the r-th contiguous slice. Hence 1 rank with batch
// 2B sees exactly the union of what 2 ranks with batch B see (docs/data-format.md).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace divrec::data {

// splitmix64: the sampler's PRNG (fixed, unlike std:: distributions and std::shuffle).
uint64_t splitmix64_next(uint64_t* state);
// A 64-bit seed from two (splitmix64 of their mix): the trainer's per-step and per-epoch streams.
uint64_t mix_seeds(uint64_t a, uint64_t b);

// Fisher-Yates permutation of [0, n) for (seed, epoch); see docs/data-format.md for the exact
// recipe (tools/reference/sampler_permutation.py reproduces it).
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch);

class EpochSampler {
 public:
  EpochSampler(int64_t num_sequences, int64_t batch_per_rank, int rank, int world, uint64_t seed);
  // ceil(num_sequences / (batch_per_rank * world)); the same on every rank.
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Indices (into the shared UserSequences) of this rank's batch b of `epoch`; always
  // batch_per_rank of them.
  std::vector<int64_t> batch(int64_t epoch, int64_t b) const;

  int64_t num_sequences() const { return n_; }
  int64_t batch_per_rank() const { return batch_; }

 private:
  int64_t n_;
  int64_t batch_;
  int rank_;
  int world_;
  uint64_t seed_;
  int64_t batches_per_epoch_;
  // The last epoch's permutation, so batch() costs O(batch) after the first call of an epoch.
  // Behind a shared_ptr so the sampler stays copyable/movable; copies share it (same n, seed).
  struct Cache {
    std::mutex mutex;
    int64_t epoch = -1;
    std::vector<int64_t> perm;
  };
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

}  // namespace divrec::data
