// Exact top-k by inner product (brute force) and recall@k of an approximate result against it:
// the reference that ANN tests, the ANN benchmark and recall reports compare against. Plain
// loops, independent of Faiss, so a Faiss bug cannot hide in both sides of a comparison.
#pragma once

#include <cstdint>
#include <vector>

namespace divrec::eval {

// Top-k item ids for users [batch, d] against items [n, d] (row-major float32), best first,
// ties broken by the smaller id. Returns row-major [batch, k] int64. k in [1, n].
std::vector<int64_t> exact_top_k(const float* users, int64_t batch, const float* items, int64_t n,
                                 int64_t d, int64_t k);

// Mean over rows of |ann row ∩ exact row| / k for two row-major [batch, k] id lists (-1 ids in
// ann never match). Throws when the sizes differ from batch * k.
double recall_at_k(const std::vector<int64_t>& ann_ids, const std::vector<int64_t>& exact_ids,
                   int64_t batch, int64_t k);

}  // namespace divrec::eval
