// A re-ranker under an exposure policy: the policy's multipliers are added to the candidates'
// relevance (exposure_policy.h), then the wrapped re-ranker and its hard constraints run on the
// adjusted, re-sorted candidates. Eval (--fairness dual) and serving wrap every method this way.
#pragma once

#include <memory>
#include <string>

#include "eval/rerank/exposure_policy.h"
#include "eval/rerank/reranker.h"

namespace divrec::eval {

class FairReranker : public Reranker {
 public:
  // The policy must outlive the re-ranker; its multipliers may change between calls (the pass
  // driver steps them between passes) but not during one.
  FairReranker(std::unique_ptr<Reranker> inner, const ExposurePolicy& policy);
  std::string name() const override;
  // As the inner re-ranker on the adjusted candidates; the result's positions and scores refer to
  // the caller's candidates (the model's relevance, not the adjusted one).
  void rerank_into(const Candidates& candidates, const UserContext& user, int k,
                   const Constraints& constraints, Workspace& ws, RerankResult& out) const override;

 private:
  std::unique_ptr<Reranker> inner_;
  const ExposurePolicy& policy_;
};

}  // namespace divrec::eval
