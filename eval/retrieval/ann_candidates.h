// ANN retrieval as a drop-in for the exact top-N: the index proposes max(min_candidates, N) +
// |history| items per user, the exact kernel re-scores them (model/score_subset.h: the bits of a
// full scan), the history is masked, and the N best by score then LOWER id are kept -- the exact
// list whenever the index found the exact top-N. One user per call: a user's list depends only on
// its vector, history, N, the index and the search parameters (not on batches or threads).
#pragma once

#include <cstdint>
#include <vector>

#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "trainer/model/score_kernel.h"

namespace divrec::eval {

// Per-thread scratch of ann_top_n (never shared).
struct AnnScratch {
  std::vector<int32_t> ids;
  std::vector<float> scores;
  std::vector<int32_t> order;
  std::vector<int32_t> history;  // sorted, for the mask
};

// How many items to ask the index for: min(I, max(min_candidates, n) + history).
int64_t ann_fetch_count(int64_t n, int64_t history, int64_t min_candidates, int64_t items);

// Writes up to n items and their exact scores to items_out / scores_out (room for n each) and
// returns the count. `table` must hold the vectors the index was built from (same I and D).
int ann_top_n(const AnnIndex& index, const model::ScoreTable& table, const float* user, int64_t n,
              const model::ExcludeList& exclude, const RetrievalOptions& options,
              AnnScratch& scratch, int32_t* items_out, float* scores_out);

// |approx ∩ exact| for two id lists (any order; ids are distinct within a list).
int64_t overlap(const int32_t* approx, int64_t na, const int32_t* exact, int64_t ne,
                std::vector<int32_t>& scratch);

}  // namespace divrec::eval
