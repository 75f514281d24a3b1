// The greedy driver: input checks, relevance normalisation, the per-step pick with constraint
// admission and best-effort relaxation, reasons, and the final exact constraint check.
#include "eval/rerank/greedy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.h"
#include "eval/rerank/constraint_tracker.h"
#include "eval/rerank/kernels.h"

namespace divrec::eval {

void normalise_relevance(const float* scores, int n, float* rel) {
  if (n == 0) return;
  float lo = scores[0], hi = scores[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, scores[i]);
    hi = std::max(hi, scores[i]);
  }
  if (!(hi > lo)) {
    for (int i = 0; i < n; ++i) rel[i] = 1.f;
    return;
  }
  const double inv = 1.0 / (static_cast<double>(hi) - lo);
  for (int i = 0; i < n; ++i)
    rel[i] = static_cast<float>((static_cast<double>(scores[i]) - lo) * inv);
}

namespace {

constexpr float kNoGain = -std::numeric_limits<float>::infinity();

void check_input(const Candidates& c, int k, const data::ItemTable& table) {
  DIVREC_CHECK(c.n >= 0 && k >= 0, "re-rank: need n >= 0 candidates and k >= 0, got n = ", c.n,
               ", k = ", k);
  DIVREC_CHECK(c.n == 0 || (c.items != nullptr && c.scores != nullptr),
               "re-rank: null candidate arrays");
  const bool has_cat = !table.category.empty();
  for (int i = 0; i < c.n; ++i) {
    const int32_t item = c.items[i];
    DIVREC_CHECK(item >= 0 && item < table.num_items, "re-rank: candidate ", i, " has item id ",
                 item, " outside [0, ", table.num_items, ")");
    DIVREC_CHECK(std::isfinite(c.scores[i]), "re-rank: candidate ", i, " (item ", item,
                 ") has a non-finite score ", c.scores[i]);
    if (has_cat) {
      const int32_t cat = table.category[static_cast<size_t>(item)];
      DIVREC_CHECK(cat >= -1 && cat < table.num_categories, "re-rank: item ", item,
                   " has category ", cat, " outside [-1, ", table.num_categories, ")");
    }
  }
}

// Relaxation order when no candidate is admissible: give up the cheapest constraint first.
constexpr ConstraintKind kDropOrder[kNumConstraintKinds] = {
    ConstraintKind::kMaxSimilarity, ConstraintKind::kMinAttributes, ConstraintKind::kMaxPerCategory,
    ConstraintKind::kMinCategories, ConstraintKind::kMinDistinct,   ConstraintKind::kAttrsPerItem};

// Best unused candidate admitted under `mask`, or -1 (prepare: the tracker is not yet prepared
// for this mask).
int best_admitted(ConstraintTracker& t, ConstraintMask mask, int slots, const uint8_t* used,
                  const float* gain, int n, bool prepare = true) {
  if (prepare) t.prepare(mask, slots, used);
  int best = -1;
  for (int i = 0; i < n; ++i) {
    if (used[i] || (best >= 0 && !(gain[i] > gain[best]))) continue;
    if (t.reject(i, mask) < 0) best = i;
  }
  return best;
}

// Why `pick` was taken instead of the method's choice, which constraint `why` rejected: when
// the pick is the best candidate the per-item filters allow, the filter that rejected the
// method's choice; otherwise the count constraint that rejected that best filtered candidate
// (the one that reserved this slot).
Reason reason_for(int why, int pick, const ConstraintTracker& t, const uint8_t* used,
                  const float* gain, int n) {
  const ConstraintMask mask = t.enabled();
  int best_filtered = -1;
  for (int i = 0; i < n; ++i) {
    if (used[i] || (best_filtered >= 0 && !(gain[i] > gain[best_filtered]))) continue;
    if (t.passes_filters(i, mask)) best_filtered = i;
  }
  if (pick >= 0 && best_filtered >= 0 && best_filtered != pick) {
    const int count_why = t.reject(best_filtered, mask);
    if (count_why >= 0) why = count_why;
  }
  return reason_for(static_cast<ConstraintKind>(why));
}

}  // namespace

void GreedyReranker::rerank_into(const Candidates& cand, const UserContext& user, int k,
                                 const Constraints& constraints, Workspace& ws,
                                 RerankResult& out) const {
  check_input(cand, k, table_);
  const int n = cand.n;
  const int length = std::min(k, n);
  out.items.clear();
  out.scores.clear();
  out.reasons.clear();
  out.positions.clear();
  out.violated.clear();
  out.feasible = true;

  const size_t un = static_cast<size_t>(std::max(n, 1));
  GreedyList list;
  list.items = cand.items;
  list.n = n;
  list.length = length;
  float* rel = grow(ws.rel, un);
  normalise_relevance(cand.scores, n, rel);
  list.rel = rel;
  uint8_t* used = grow(ws.used, un);
  std::fill(used, used + n, uint8_t{0});
  list.used = used;
  float* gain = grow(ws.gain, un);
  float* sim_row = grow(ws.sim_row, un);
  if (needs_history()) {
    if (user.categories != nullptr) {
      list.history = user.categories;
    } else {
      ws.history.compute(user.history, user.history_size, table_);
      list.history = &ws.history;
    }
  }

  ConstraintTracker tracker(constraints, table_, cand.items, n, length, ws);
  const bool want_sim = needs_similarity() || tracker.needs_similarity();
  if (want_sim || needs_candidate_vectors()) sim_.gather(cand.items, n, ws.cand_vectors);
  float* rel_alive = grow(ws.rel_alive, un);
  std::copy(rel, rel + n, rel_alive);
  begin(list, ws);
  float max_rel = kernels::max_value(rel_alive, n);  // the best relevance left
  for (int step = 0; step < length; ++step) {
    gains(list, ws, gain);
    // The method's own choice: the first maximum over unused candidates.
    for (int32_t p : out.positions) gain[p] = kNoGain;
    int best = kernels::argmax(gain, n);
    if (best < 0) best = static_cast<int>(std::find(used, used + n, 0) - used);  // all -inf
    int pick = best;
    Reason reason = Reason::kRelevance;
    bool forced = false;
    if (tracker.active()) {
      const int slots = length - step;
      tracker.prepare(tracker.enabled(), slots, used);
      const int why = tracker.reject(best, tracker.enabled());
      if (why >= 0) {
        forced = true;
        pick = best_admitted(tracker, tracker.enabled(), slots, used, gain, n, false);
        reason = reason_for(why, pick, tracker, used, gain, n);
        if (pick < 0) {
          // Nothing keeps every constraint: drop the fewest, cheapest ones (best effort; the
          // final check reports what the list violates).
          ConstraintKind enabled_kinds[kNumConstraintKinds];
          int m = 0;
          for (ConstraintKind kind : kDropOrder) {
            if (tracker.enabled() & mask_of(kind)) enabled_kinds[m++] = kind;
          }
          for (int drop = 1; drop <= m && pick < 0; ++drop) {
            for (uint32_t bits = 1; bits < (1u << m) && pick < 0; ++bits) {
              if (__builtin_popcount(bits) != drop) continue;
              ConstraintMask mask = tracker.enabled();
              for (int j = 0; j < m; ++j) {
                if (bits & (1u << j)) mask &= ~mask_of(enabled_kinds[j]);
              }
              pick = best_admitted(tracker, mask, slots, used, gain, n);
            }
          }
          reason = Reason::kFallback;
        }
      }
    }
    if (!forced) reason = rel[pick] >= max_rel ? Reason::kRelevance : Reason::kDiversity;

    if (want_sim) sim_.candidate_row(pick, cand.items, n, ws.cand_vectors.data(), sim_row);
    used[pick] = 1;
    rel_alive[pick] = kNoGain;
    if (rel[pick] >= max_rel) max_rel = kernels::max_value(rel_alive, n);
    tracker.commit(pick, sim_row);
    commit(list, pick, sim_row, ws);
    ++list.size;
    out.items.push_back(cand.items[pick]);
    out.scores.push_back(cand.scores[pick]);
    out.reasons.push_back(reason);
    out.positions.push_back(pick);
  }

  if (constraints.any()) {
    violated_constraints(out.items.data(), static_cast<int>(out.items.size()), constraints, table_,
                         sim_, ws, ws.violated);
    for (ConstraintKind kind : ws.violated) out.violated.emplace_back(constraint_name(kind));
    out.feasible = ws.violated.empty();
  }
}

}  // namespace divrec::eval
