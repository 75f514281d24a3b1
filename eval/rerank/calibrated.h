// Calibrated recommendations (Steck, RecSys 2018): greedily maximise
// (1 - lambda) * sum_{i in list} rel_i - lambda * KL(p || q~), where p = p(c|u) from the history,
// q(c) = share of listed (categorised) items in c, q~ = (1 - alpha) q + alpha p.
#pragma once

#include "eval/rerank/greedy.h"

namespace divrec::eval {

class CalibratedReranker : public GreedyReranker {
 public:
  CalibratedReranker(const ItemSimilarity& sim, const data::ItemTable& table, double lambda,
                     double alpha)
      : GreedyReranker(sim, table), lambda_(lambda), alpha_(alpha) {}
  std::string name() const override;

 protected:
  void begin(const GreedyList& list, Workspace& ws) const override;
  void gains(const GreedyList& list, Workspace& ws, float* gain) const override;
  void commit(const GreedyList& list, int pos, const float* sim_row, Workspace& ws) const override;
  bool needs_history() const override { return true; }

 private:
  double lambda_;
  double alpha_;
};

// KL(p || q~) in nats for history distribution p (probs over its categories), listed counts per
// p-category `count`, and `listed` categorised list items (the metric and the re-ranker share it).
double calibration_kl(const double* p, const double* count, size_t m, int64_t listed, double alpha);

}  // namespace divrec::eval
