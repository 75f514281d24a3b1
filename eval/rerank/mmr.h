// Maximal Marginal Relevance (Carbonell & Goldstein, SIGIR 1998):
// gain_i = lambda * rel_i - (1 - lambda) * max_{j in list} sim(i, j), rel min-max normalised.
#pragma once

#include "eval/rerank/greedy.h"

namespace divrec::eval {

class MmrReranker : public GreedyReranker {
 public:
  MmrReranker(const ItemSimilarity& sim, const data::ItemTable& table, double lambda)
      : GreedyReranker(sim, table), lambda_(static_cast<float>(lambda)) {}
  std::string name() const override;

 protected:
  void begin(const GreedyList& list, Workspace& ws) const override;
  void gains(const GreedyList& list, Workspace& ws, float* gain) const override;
  void commit(const GreedyList& list, int pos, const float* sim_row, Workspace& ws) const override;
  bool needs_similarity() const override { return true; }

 private:
  float lambda_;
};

}  // namespace divrec::eval
