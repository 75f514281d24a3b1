// The epoch plan (see epoch_plan.h).
#include "trainer/epoch_plan.h"

#include <algorithm>

#include "data_shards/sampler.h"

namespace divrec::trainer {

std::vector<std::vector<int64_t>> epoch_plan(const std::vector<int64_t>& lengths,
                                             int64_t batch_per_rank, int rank, int world,
                                             uint64_t seed, int64_t epoch, bool length_buckets) {
  const int64_t n = static_cast<int64_t>(lengths.size());
  const int64_t G = batch_per_rank * world;  // global batch
  data::EpochSampler global(n, G, 0, 1, seed);
  const int64_t nb = global.batches_per_epoch();
  std::vector<std::vector<int64_t>> globals(nb);
  for (int64_t b = 0; b < nb; ++b) globals[b] = global.batch(epoch, b);
  if (length_buckets) {
    // Chunks of kChunk global batches are pooled, sorted by length (stable), re-cut, and the
    // chunk's batches shuffled: similar lengths share a batch, so dynamic padding pays off.
    constexpr int64_t kChunk = 16;
    uint64_t rng = data::mix_seeds(seed ^ 0x5eed, static_cast<uint64_t>(epoch));
    for (int64_t c0 = 0; c0 < nb; c0 += kChunk) {
      int64_t c1 = std::min(nb, c0 + kChunk);
      std::vector<int64_t> pool;
      for (int64_t b = c0; b < c1; ++b)
        pool.insert(pool.end(), globals[b].begin(), globals[b].end());
      std::stable_sort(pool.begin(), pool.end(),
                       [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
      for (int64_t b = c0; b < c1; ++b) {
        auto first = pool.begin() + (b - c0) * G;
        globals[b].assign(first, first + G);
      }
      for (int64_t b = c1 - 1; b > c0; --b) {  // Fisher-Yates over the chunk's batches
        int64_t j = c0 + static_cast<int64_t>(data::splitmix64_next(&rng) % (b - c0 + 1));
        std::swap(globals[b], globals[j]);
      }
    }
  }
  std::vector<std::vector<int64_t>> mine(nb);
  for (int64_t b = 0; b < nb; ++b) {
    mine[b].reserve(batch_per_rank);
    for (int64_t i = rank; i < G; i += world) mine[b].push_back(globals[b][i]);
  }
  return mine;
}

}  // namespace divrec::trainer
