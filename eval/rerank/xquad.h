// xQuAD explicit aspect diversification (Santos, Macdonald & Ounis, WWW 2010) over categories:
// gain_i = (1 - lambda) rel_i + lambda * sum_c p(c|u) p(i|c) prod_{j in list} (1 - p(j|c)),
// with p(c|u) the history category distribution and binary coverage p(i|c) = [category(i) = c].
#pragma once

#include "eval/rerank/greedy.h"

namespace divrec::eval {

class XquadReranker : public GreedyReranker {
 public:
  XquadReranker(const ItemSimilarity& sim, const data::ItemTable& table, double lambda)
      : GreedyReranker(sim, table), lambda_(lambda) {}
  std::string name() const override;

 protected:
  void begin(const GreedyList& list, Workspace& ws) const override;
  void gains(const GreedyList& list, Workspace& ws, float* gain) const override;
  void commit(const GreedyList& list, int pos, const float* sim_row, Workspace& ws) const override;
  bool needs_history() const override { return true; }

 private:
  double lambda_;
};

}  // namespace divrec::eval
