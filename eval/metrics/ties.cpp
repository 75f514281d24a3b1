// The pessimistic tie rule (see ties.h). Almost every listed target has no tie, which costs one
// scan of the candidates; only a target that does tie pays for finding its group in the list.
#include "eval/metrics/ties.h"

#include <algorithm>
#include <cmath>

namespace divrec::eval {

namespace {

bool contains(const int32_t* v, int n, int32_t x) { return std::find(v, v + n, x) != v + n; }

// The relevance score of `item` among the candidates; false when it is not one.
bool score_of(const Candidates& c, int32_t item, float* score) {
  for (int i = 0; i < c.n; ++i) {
    if (c.items[i] == item) {
      *score = c.scores[i];
      return true;
    }
  }
  return false;
}

// A listed target at position p that is not a repeat of an earlier listed item.
bool first_listed_target(const int32_t* list, int p, const int32_t* targets, int num_targets) {
  return contains(targets, num_targets, list[p]) && !contains(list, p, list[p]);
}

// Refills the listed positions of the tie group with relevance score r: non-targets first, then
// one -1 per tied non-target ranked after the list, then the group's targets in list order.
void refill_group(const int32_t* list, int len, const int32_t* targets, int num_targets,
                  const RelevanceTies& ties, float r, std::vector<int32_t>& out) {
  const Candidates& c = ties.candidates;
  std::vector<int> slots;
  std::vector<int32_t> listed_targets, listed_others;
  for (int q = 0; q < len; ++q) {
    float s;
    if (!score_of(c, list[q], &s) || s != r) continue;
    slots.push_back(q);
    if (first_listed_target(list, q, targets, num_targets)) {
      listed_targets.push_back(list[q]);
    } else {
      listed_others.push_back(list[q]);
    }
  }
  size_t after_list = 0;  // tied non-targets the list left out
  for (int i = 0; i < c.n; ++i) {
    after_list += c.scores[i] == r && !contains(list, len, c.items[i]) &&
                  !contains(targets, num_targets, c.items[i]);
  }
  if (!ties.complete && c.n > 0 && c.scores[c.n - 1] == r) ++after_list;  // more may lie beyond N
  const size_t others = listed_others.size() + after_list;
  for (size_t j = 0; j < slots.size(); ++j) {
    int32_t& slot = out[static_cast<size_t>(slots[j])];
    if (j < listed_others.size()) {
      slot = listed_others[j];
    } else if (j < others) {
      slot = -1;
    } else {
      slot = listed_targets[j - others];
    }
  }
}

}  // namespace

bool pessimistic_target_list(const int32_t* list, int len, const int32_t* targets, int num_targets,
                             const RelevanceTies& ties, std::vector<int32_t>& out) {
  out.assign(list, list + std::max(len, 0));
  const Candidates& c = ties.candidates;
  bool changed = false;
  for (int p = 0; p < len; ++p) {
    if (!first_listed_target(list, p, targets, num_targets)) continue;
    float r;
    if (!score_of(c, list[p], &r) || !std::isfinite(r)) continue;
    int tied = 0;
    for (int i = 0; i < c.n; ++i) tied += c.scores[i] == r;
    const bool past_n = !ties.complete && c.n > 0 && c.scores[c.n - 1] == r;
    if (tied == 1 && !past_n) continue;  // the common case: nothing ties with this target
    // One refill per group: skip it when an earlier listed target shares the score.
    bool done = false;
    for (int q = 0; q < p && !done; ++q) {
      float s;
      done =
          first_listed_target(list, q, targets, num_targets) && score_of(c, list[q], &s) && s == r;
    }
    if (done) continue;
    refill_group(list, len, targets, num_targets, ties, r, out);
    changed = true;
  }
  return changed && !std::equal(out.begin(), out.end(), list);
}

}  // namespace divrec::eval
