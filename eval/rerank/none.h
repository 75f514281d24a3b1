// The identity re-ranker: relevance order (still subject to constraints).
#pragma once

#include "eval/rerank/greedy.h"

namespace divrec::eval {

class NoneReranker : public GreedyReranker {
 public:
  using GreedyReranker::GreedyReranker;
  std::string name() const override { return "none"; }

 protected:
  void gains(const GreedyList& list, Workspace& ws, float* gain) const override;
};

}  // namespace divrec::eval
