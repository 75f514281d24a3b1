// The pessimistic tie rule for metrics that depend on where a target is ranked (HR, Recall, NDCG,
// MRR, serendipity): a target ranks after every item whose relevance score ties with its own.
// Lists never depend on the target (they are what serving returns); only the metrics' view does.
// docs/diversity.md, "Ties", gives the rule and why; trainer/validation.cpp applies the same one.
#pragma once

#include <cstdint>
#include <vector>

#include "eval/rerank/reranker.h"

namespace divrec::eval {

// The user's candidates with their relevance scores (what the re-rankers saw, history excluded)
// and whether they hold every item that could tie: `complete` is false when the candidate set was
// cut at N, so unlisted items beyond the N-th may score the same as the N-th.
struct RelevanceTies {
  Candidates candidates;
  bool complete = true;
};

// Writes into `out` (resized to len) the list the target-dependent metrics see. For every tie group
// (candidates with one relevance score) holding a listed target, the group's listed positions are
// refilled non-targets first, then targets (in list order): a target moves behind every listed
// item tied with it. A tied non-target left out of the list (or possibly beyond an incomplete
// candidate set, when the N-th candidate ties) ranks after the list, so each such item pushes one
// of the group's targets out of the list (its slot gets -1, which no metric counts as a target).
// With the relevance order (--rerank none) this is exactly "rank = #items scoring higher + #other
// items scoring the same", the trainer's rule. Listed items missing from the candidates, and
// non-finite scores, keep their positions. Returns true when `out` differs from the list.
// Cost: O(N) per listed target plus O(len * N) only for targets that do tie.
bool pessimistic_target_list(const int32_t* list, int len, const int32_t* targets, int num_targets,
                             const RelevanceTies& ties, std::vector<int32_t>& out);

}  // namespace divrec::eval
