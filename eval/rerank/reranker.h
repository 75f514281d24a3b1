// The re-ranking interface: a user's relevance-ordered candidates go in, a diversified list of k
// items comes out with the reason each item was picked and whether the hard constraints hold.
// Re-rankers are const and thread-safe; all per-call scratch lives in a per-thread Workspace.
// Methods and formulas: docs/diversity.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/rerank/constraints.h"
#include "eval/rerank/similarity.h"
#include "eval/rerank/user_profile.h"
#include "eval/rerank/workspace.h"

namespace divrec::eval {

// A view of one user's candidates: item ids and relevance scores, normally sorted by relevance
// descending (ties between equal gains are broken by position, so order matters only for ties).
// Item ids may repeat (several retrieval sources); each position can be picked once.
struct Candidates {
  const int32_t* items = nullptr;
  const float* scores = nullptr;
  int n = 0;

  Candidates() = default;
  Candidates(const int32_t* items_, const float* scores_, int n_)
      : items(items_), scores(scores_), n(n_) {}
  Candidates(const std::vector<int32_t>& items_, const std::vector<float>& scores_);
};

// Why an item was put at its position.
enum class Reason : int8_t {
  kRelevance = 0,      // the method's pick is also the most relevant remaining candidate
  kDiversity = 1,      // the method's marginal gain (diversity term) chose a less relevant item
  kMinCategories = 2,  // a constraint rejected the method's pick (the first one that did) ...
  kMaxPerCategory = 3,
  kMinAttributes = 4,
  kAttrsPerItem = 5,
  kMaxSimilarity = 6,
  kMinDistinct = 7,
  kFallback = 8,  // no candidate could keep every constraint: best-effort fill
};
const char* reason_name(Reason r);
// The reason a constraint forces (kMinCategories for ConstraintKind::kMinCategories, ...).
Reason reason_for(ConstraintKind kind);

struct RerankResult {
  std::vector<int32_t> items;         // the list, min(k, n) items
  std::vector<float> scores;          // the input relevance score of each listed item
  std::vector<Reason> reasons;        // why each item was picked
  std::vector<int32_t> positions;     // candidate position of each listed item
  bool feasible = true;               // the list satisfies every constraint
  std::vector<std::string> violated;  // names of violated constraints (constraint_name())
};

enum class RerankMethod { kNone, kMmr, kDpp, kXquad, kCalibrated };

struct RerankConfig {
  RerankMethod method = RerankMethod::kNone;
  // mmr: weight of relevance (lambda * rel - (1 - lambda) * max sim, so 1 = relevance order);
  // xquad, calibrated: weight of the diversity / calibration term (0 = relevance order).
  double lambda = 0.5;
  double theta = 1.0;   // dpp: quality exponent, q_i = exp(theta * rel_i)
  int window = 0;       // dpp: sliding window (0 = off)
  double alpha = 0.01;  // calibrated: smoothing of the list distribution
};

// "none", "mmr", "dpp", "xquad", "calibrated"; throws listing the valid names otherwise.
RerankMethod parse_rerank_method(const std::string& name);
const char* rerank_method_name(RerankMethod m);
// Throws divrec::Error naming the option when a value is out of range.
void validate(const RerankConfig& config);

class Reranker {
 public:
  virtual ~Reranker();
  virtual std::string name() const = 0;
  // Picks min(k, n) candidates. Throws on invalid input (item id out of range, NaN score).
  virtual RerankResult rerank(const Candidates& candidates, const UserContext& user, int k,
                              const Constraints& constraints, Workspace& ws) const;
  // As rerank(), reusing out's buffers (no allocation once they have grown).
  virtual void rerank_into(const Candidates& candidates, const UserContext& user, int k,
                           const Constraints& constraints, Workspace& ws,
                           RerankResult& out) const = 0;
};

// The similarity and the item table must outlive the re-ranker; their item counts must match.
std::unique_ptr<Reranker> make_reranker(const RerankConfig& config, const ItemSimilarity& sim,
                                        const data::ItemTable& items);

}  // namespace divrec::eval
