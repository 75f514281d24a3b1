// The candidate half of the evaluation pass: this rank's users block by block (user_blocks.h),
// each user's history encoded and scored against the whole catalog (or ANN candidates re-scored),
// cut to the top N. evaluate() re-ranks each block at once; the fair-exposure driver caches them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/log.h"
#include "eval/candidate_stage.h"
#include "eval/evaluator.h"
#include "trainer/model/score_kernel.h"

namespace divrec::eval {

class CandidateBatches {
 public:
  // Checks the inputs against the options (as evaluate() documents) and lays the item table out
  // for the kernel. N = min(options.candidates, items). `in` must outlive this object.
  CandidateBatches(const EvalInputs& in, const EvalOptions& options);

  int64_t n() const { return n_; }
  const CandidateStage& stage() const { return stage_; }

  // For each block of `rows` (this rank's evaluable users, sorted by dense id): fn(batch, top)
  // with batch = the block's rows and top = their top N (model::TopN layout). Model in eval mode,
  // no autograd, during the call. progress (may be null) advances after each block.
  using BatchFn = std::function<void(const std::vector<int64_t>& batch, const model::TopN& top)>;
  void run(const std::vector<int64_t>& rows, core::Progress* progress, const BatchFn& fn);

 private:
  const EvalInputs& in_;
  const EvalOptions& opt_;
  int64_t n_ = 0;
  torch::Tensor item_table_;
  model::ScoreTable score_table_;
  CandidateStage stage_;
};

}  // namespace divrec::eval
