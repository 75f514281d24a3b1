// The epoch plan: which users each rank trains on in each step of an epoch, a pure function of
// (seed, epoch, world), optionally with length-bucketed batches (less padding).
#pragma once

#include <cstdint>
#include <vector>

namespace divrec::trainer {

// Global batches for one epoch: indices into the shared sequences, already split for `rank`
// (round-robin inside each length-sorted global batch, so ranks get similar lengths). A pure
// function of (lengths, batch per rank, world, seed, epoch): 1 rank with batch 2B gets the
// union of what 2 ranks with batch B get, batch by batch.
std::vector<std::vector<int64_t>> epoch_plan(const std::vector<int64_t>& lengths,
                                             int64_t batch_per_rank, int rank, int world,
                                             uint64_t seed, int64_t epoch, bool length_buckets);

}  // namespace divrec::trainer
