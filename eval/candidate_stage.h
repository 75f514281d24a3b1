// The candidate step of the evaluation pass: each user's top N, history excluded, from the exact
// kernel over the whole catalog, or (--retrieval ann) from the ANN index re-scored by the same
// kernel -- what `divrec recommend` / `serve` compute with the same retrieval and index. With ANN
// it also runs the exact top N and counts the overlap, so the report gives recall@N vs exact.
#pragma once

#include <cstdint>
#include <vector>

#include "eval/retrieval/ann_candidates.h"
#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "trainer/model/score_kernel.h"

namespace divrec::eval {

class CandidateStage {
 public:
  // ann == nullptr: exact. `threads`: the kernel's user ranges and the ANN queries (torch pool).
  CandidateStage(const model::ScoreTable& table, const AnnIndex* ann,
                 const RetrievalOptions& options, int threads);

  // users [B, D]; exclude: B lists. Fills out like model::score_top_n.
  void run(const float* users, int64_t B, int64_t n, const model::ExcludeList* exclude,
           model::TopN& out);

  bool ann() const { return ann_ != nullptr; }
  // Over all run() calls (this rank): exact top-N items also returned by ANN, and exact items.
  int64_t recall_hits() const { return hits_; }
  int64_t recall_total() const { return total_; }

 private:
  const model::ScoreTable& table_;
  const AnnIndex* ann_;
  RetrievalOptions options_;
  model::ScoreOptions score_opt_;
  model::TopN exact_;
  std::vector<AnnScratch> scratch_;            // per torch thread
  std::vector<std::vector<int32_t>> overlap_;  // per torch thread
  std::vector<int64_t> user_hits_;             // per user of the current batch
  int64_t hits_ = 0;
  int64_t total_ = 0;
};

}  // namespace divrec::eval
