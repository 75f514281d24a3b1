// Determinantal point process re-ranking by greedy MAP inference with the incremental Cholesky
// algorithm of Chen, Zhang & Zhou (NeurIPS 2018), O(n k^2), and its sliding-window variant.
// Kernel L = diag(q) S diag(q), q_i = exp(theta * rel_i); S = (1 + cos) / 2 for cosine
// similarity (PSD, diagonal 1), the Jaccard or precomputed similarity as is. For cosine without
// a window, S = B B^T with b_i = [1, v_i] / sqrt(2) has rank D + 1 and the same Cholesky columns
// are computed in feature space (docs/diversity.md): one D-long dot per candidate and step.
#pragma once

#include "eval/rerank/greedy.h"

namespace divrec::eval {

// Residual (in S units, i.e. relative to the diagonal 1) at or below which a candidate adds no
// volume: it is "exhausted", ranked after every other candidate, by relevance.
constexpr float kDppEpsilon = 1e-5f;

class DppReranker : public GreedyReranker {
 public:
  // window = 0: plain greedy; w > 0: each gain is measured against the last w - 1 DPP picks.
  DppReranker(const ItemSimilarity& sim, const data::ItemTable& table, double theta, int window)
      : GreedyReranker(sim, table),
        theta_(theta),
        window_(window),
        features_(sim.kind() == SimilarityKind::kCosine && window == 0 && !sim.has_zero_vectors()) {
  }
  std::string name() const override;

 protected:
  void begin(const GreedyList& list, Workspace& ws) const override;
  void gains(const GreedyList& list, Workspace& ws, float* gain) const override;
  void commit(const GreedyList& list, int pos, const float* sim_row, Workspace& ws) const override;
  bool needs_similarity() const override { return !features_; }
  bool needs_candidate_vectors() const override { return features_; }

 private:
  void commit_features(const GreedyList& list, int pos, Workspace& ws) const;
  void drop_oldest(int n, Workspace& ws) const;

  double theta_;
  int window_;
  bool features_;  // cosine, no window, no zero vectors: the feature-space path
};

}  // namespace divrec::eval
