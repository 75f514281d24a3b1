// CandidateStage (see candidate_stage.h). ANN queries run one user per call on torch's pool with
// one Faiss thread each (ann_top_n), so a user's list never depends on the batch or thread count.
#include "eval/candidate_stage.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/check.h"

namespace divrec::eval {

CandidateStage::CandidateStage(const model::ScoreTable& table, const AnnIndex* ann,
                               const RetrievalOptions& options, int threads)
    : table_(table), ann_(ann), options_(options) {
  score_opt_.threads = std::max(1, threads);
  const auto slots = static_cast<size_t>(std::max(at::get_num_threads(), score_opt_.threads));
  scratch_.resize(slots);
  overlap_.resize(slots);
}

void CandidateStage::run(const float* users, int64_t B, int64_t n,
                         const model::ExcludeList* exclude, model::TopN& out) {
  model::score_top_n(table_, users, B, n, exclude, score_opt_, ann_ ? exact_ : out);
  if (!ann_) return;
  const int64_t D = table_.dim();
  out.n = n;
  out.items.assign(static_cast<size_t>(B * n), -1);
  out.scores.assign(static_cast<size_t>(B * n), 0.0f);
  out.count.assign(static_cast<size_t>(B), 0);
  user_hits_.assign(static_cast<size_t>(B), 0);
  at::parallel_for(0, B, 1, [&](int64_t lo, int64_t hi) {
    const auto t = static_cast<size_t>(at::get_thread_num());
    DIVREC_CHECK(t < scratch_.size(), "eval: torch thread ", t, " beyond ", scratch_.size());
    for (int64_t b = lo; b < hi; ++b) {
      out.count[b] = ann_top_n(*ann_, table_, users + b * D, n, exclude[b], options_, scratch_[t],
                               out.items.data() + b * n, out.scores.data() + b * n);
      user_hits_[b] = overlap(out.items.data() + b * n, out.count[b], exact_.items.data() + b * n,
                              exact_.count[b], overlap_[t]);
    }
  });
  for (int64_t b = 0; b < B; ++b) {
    hits_ += user_hits_[b];
    total_ += exact_.count[b];
  }
}

}  // namespace divrec::eval
