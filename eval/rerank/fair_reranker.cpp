// FairReranker (see fair_reranker.h): adjust, delegate, map positions back.
#include "eval/rerank/fair_reranker.h"

#include "core/check.h"

namespace divrec::eval {

FairReranker::FairReranker(std::unique_ptr<Reranker> inner, const ExposurePolicy& policy)
    : inner_(std::move(inner)), policy_(policy) {
  DIVREC_CHECK(inner_ != nullptr, "FairReranker needs a re-ranker to wrap");
}

std::string FairReranker::name() const { return inner_->name() + "+fair"; }

void FairReranker::rerank_into(const Candidates& candidates, const UserContext& user, int k,
                               const Constraints& constraints, Workspace& ws,
                               RerankResult& out) const {
  if (!policy_.active()) {
    inner_->rerank_into(candidates, user, k, constraints, ws, out);
    return;
  }
  policy_.apply(candidates.items, candidates.scores, candidates.n, ws.fair_order, ws.fair_items,
                ws.fair_scores);
  const Candidates adjusted(ws.fair_items.data(), ws.fair_scores.data(), candidates.n);
  inner_->rerank_into(adjusted, user, k, constraints, ws, out);
  for (size_t j = 0; j < out.positions.size(); ++j) {
    const int32_t original = ws.fair_order[static_cast<size_t>(out.positions[j])];
    out.positions[j] = original;
    out.scores[j] = candidates.scores[original];
  }
}

}  // namespace divrec::eval
