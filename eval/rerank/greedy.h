// The feasibility-aware greedy shared by every method: each step asks the method for marginal
// gains, keeps the best candidate the constraints admit (relaxing them only when nothing is
// admissible), records why it was picked, and tells the method and the constraint tracker.
#pragma once

#include <cstdint>
#include <string>

#include "eval/rerank/reranker.h"

namespace divrec::eval {

// The list being built, as the methods see it. Arrays are indexed by candidate position.
struct GreedyList {
  const int32_t* items = nullptr;  // candidate item ids [n]
  const float* rel = nullptr;      // relevance min-max normalised to [0, 1] within the list [n]
  const uint8_t* used = nullptr;   // 1 once picked [n]
  int n = 0;                       // candidates
  int length = 0;                  // items the list will have: min(k, n)
  int size = 0;                    // items picked so far
  const CategoryDistribution* history = nullptr;  // p(c|u), set when needs_history()
};

class GreedyReranker : public Reranker {
 public:
  GreedyReranker(const ItemSimilarity& sim, const data::ItemTable& table)
      : sim_(sim), table_(table) {}
  void rerank_into(const Candidates& candidates, const UserContext& user, int k,
                   const Constraints& constraints, Workspace& ws, RerankResult& out) const override;

 protected:
  // Once per list, before the first step.
  virtual void begin(const GreedyList& list, Workspace& ws) const {}
  // gain[i] for every candidate (entries of used ones are ignored); larger is better, ties go to
  // the earlier position.
  virtual void gains(const GreedyList& list, Workspace& ws, float* gain) const = 0;
  // Candidate `pos` was appended. sim_row[i] = sim(items[pos], items[i]) when needs_similarity().
  virtual void commit(const GreedyList& list, int pos, const float* sim_row, Workspace& ws) const {}
  virtual bool needs_similarity() const { return false; }
  // Whether the method reads the gathered candidate vectors (ws.cand_vectors, cosine only).
  virtual bool needs_candidate_vectors() const { return false; }
  virtual bool needs_history() const { return false; }

  const ItemSimilarity& sim_;
  const data::ItemTable& table_;
};

// Min-max normalisation of scores into rel[0..n) (all 1 when the scores are equal).
void normalise_relevance(const float* scores, int n, float* rel);

}  // namespace divrec::eval
