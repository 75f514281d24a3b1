// Per-thread scratch for re-ranking: every buffer the greedy, the methods and the constraint
// tracker need, grown on demand and reused, so the hot path does not allocate once warm.
// One Workspace per thread; never share one between concurrent calls.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "eval/rerank/user_profile.h"

namespace divrec::eval {

enum class ConstraintKind : int8_t;

// Grows v to at least n elements (never shrinks) and returns its data.
template <typename T>
T* grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// A dense array over a large id space (categories, attributes) that is "cleared" in O(1) per use
// by bumping an epoch: entries not written in the current epoch read as T{}.
template <typename T>
class StampedArray {
 public:
  // Starts a new epoch over ids [0, size).
  void reset(size_t size) {
    if (stamp_.size() < size) {
      stamp_.resize(size, 0);
      value_.resize(size);
    }
    if (++epoch_ == 0) {  // wrapped: clear for real once every 2^32 uses
      std::fill(stamp_.begin(), stamp_.end(), 0u);
      epoch_ = 1;
    }
  }
  T get(size_t i) const { return stamp_[i] == epoch_ ? value_[i] : T{}; }
  T& at(size_t i) {
    if (stamp_[i] != epoch_) {
      stamp_[i] = epoch_;
      value_[i] = T{};
    }
    return value_[i];
  }

 private:
  std::vector<uint32_t> stamp_;
  std::vector<T> value_;
  uint32_t epoch_ = 0;
};

struct Workspace {
  // Greedy driver, indexed by candidate position [n].
  std::vector<float> rel;           // min-max normalised relevance
  std::vector<float> gain;          // the method's marginal gains of this step
  std::vector<float> sim_row;       // similarity of the last pick to every candidate
  std::vector<float> cand_vectors;  // the candidates' vectors, gathered (cosine)
  std::vector<float> rel_alive;     // rel, -inf once picked (for reasons)
  std::vector<uint8_t> used;        // 1 once picked
  CategoryDistribution history;     // p(c|u) when the caller gave none
  std::vector<ConstraintKind> violated;
  std::vector<int32_t> check_scratch;  // violated_constraints()
  std::vector<float> check_sim;

  // Methods.
  std::vector<int32_t> cand_cat;  // category of each candidate (xquad, calibrated)
  std::vector<float> maxsim;      // mmr: max similarity to the list
  std::vector<float> q2;          // dpp: exp(2 theta (rel - 1))
  std::vector<float> resid;       // dpp: Cholesky residuals d_i^2 of the (unscaled) kernel S
  std::vector<float> acc;         // dpp: kernel row minus projections
  std::vector<float> chol;        // dpp: [rows, n] row r = the r-th Cholesky column over candidates
  std::vector<int32_t> chol_pos;  // dpp: candidate position that made each row
  std::vector<float> chol_coef;   // dpp: the picked candidate's entries in the window rows
  std::vector<const float*> chol_rows;  // dpp: the window rows
  std::vector<float> basis;         // dpp (feature path): orthonormal basis of the picks [k, D+1]
  std::vector<float> dots;          // dpp (feature path): <basis vector, candidate vectors> [n]
  int chol_count = 0;               // dpp: rows made so far
  int chol_left = 0;                // dpp: first row still in the sliding window
  std::vector<float> aspect;        // xquad: p(category of i | u)
  std::vector<uint8_t> uncovered;   // xquad: 1 while i's category has no listed item
  std::vector<int32_t> dist_index;  // calibrated: index of i's category in p(c|u), -1 / -2
  std::vector<double> dist_count;   // calibrated: listed items per history category
  std::vector<double> dist_kl;      // calibrated: KL if an item of that category is added
  int dist_listed = 0;              // calibrated: listed items that have a category
  StampedArray<uint8_t> cat_seen;   // xquad: categories among the candidates

  // Exposure policy (fair_reranker.h): the candidates with multipliers added, re-sorted.
  std::vector<int32_t> fair_order;  // original position of each adjusted candidate
  std::vector<int32_t> fair_items;
  std::vector<float> fair_scores;

  // Constraint tracker.
  std::vector<float> near_maxsim;      // max similarity of each candidate to the list
  std::vector<uint8_t> static_ok;      // passes the per-item attribute filter
  std::vector<int32_t> new_attrs;      // attributes a candidate would add (min_attributes)
  std::vector<int32_t> top_scratch;    // top-s selection
  std::vector<int32_t> item_set;       // open-addressing set of listed item ids (min_distinct)
  StampedArray<int32_t> cat_count;     // listed items per category
  StampedArray<int32_t> cat_avail;     // usable unused candidates per category (this step)
  StampedArray<uint8_t> attr_covered;  // attributes covered by the list
};

}  // namespace divrec::eval
