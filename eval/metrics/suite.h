// The evaluator's per-user metric set: every accuracy and beyond-accuracy metric at every K, the
// exposure of the list, and the constrained re-ranker's outcome, added to a MetricAccumulator
// under fixed lower-case names ("ndcg@10", "alpha_ndcg@10", ...; docs/diversity.md lists them).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/aggregate.h"
#include "eval/metrics/ties.h"
#include "eval/rerank/reranker.h"

namespace divrec::eval {

struct MetricOptions {
  std::vector<int> ks{5, 10, 20};
  double alpha_ndcg = 0.5;          // Clarke et al.'s redundancy penalty
  double calibration_alpha = 0.01;  // Steck's smoothing of the list distribution
  double head_fraction = 0.2;       // head = this share of items by train popularity
  // Popularity slices of the target metrics (hr, recall, ndcg, mrr), by the user's first target's
  // train interactions: "cold" (0), "tail" (1 .. tail_max), "head" (more); reported as
  // "<slice>.ndcg@10" etc. with "<slice>.users" (cold-start and long-tail accuracy).
  bool slices = true;
  int64_t tail_max = 5;
};

// Per-thread scratch for add_user().
struct MetricScratch {
  std::vector<int32_t> ints;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<int32_t> target_view;  // the list as the target metrics see it (ties.h)
};

class MetricSuite {
 public:
  // ild_similarity: the embedding similarity for "ild@k" (null: not reported). The table and the
  // similarity must outlive the suite.
  MetricSuite(const data::ItemTable& items, const ItemSimilarity* ild_similarity,
              MetricOptions options);

  // An empty accumulator with this suite's cut-offs and catalog.
  MetricAccumulator make_accumulator() const;
  // One user's final list (ideally max K long) against its targets (num_targets > 0); history is
  // p(c|u) of the user's history (may be empty: calibration_kl is then skipped for this user).
  // ties: the candidates' relevance scores, for the pessimistic tie rule of the target metrics
  // (hr, recall, ndcg, mrr, serendipity; ties.h); null = list positions as they are.
  void add_user(MetricAccumulator& acc, const int32_t* list, int len, const int32_t* targets,
                int num_targets, const CategoryDistribution& history, MetricScratch& scratch,
                const RelevanceTies* ties = nullptr) const;
  // infeasible_users (counter), constraint_satisfied (rate) and violated.<constraint> (rate) for
  // every enabled constraint.
  void add_rerank_outcome(MetricAccumulator& acc, const RerankResult& result,
                          const Constraints& constraints) const;

  const MetricOptions& options() const { return options_; }
  const data::ItemTable& items() const { return items_; }
  const std::shared_ptr<const ExposureContext>& exposure_context() const { return context_; }

 private:
  struct Names {
    std::string hr, recall, ndcg, mrr, ild, category_ild, category_coverage, categories,
        attribute_coverage, alpha_ndcg, calibration_kl, novelty, serendipity;
  };
  const data::ItemTable& items_;
  const ItemSimilarity* ild_similarity_;
  MetricOptions options_;
  std::shared_ptr<const ExposureContext> context_;
  std::vector<double> self_information_;
  std::vector<int64_t> category_size_;
  std::vector<Names> names_;                 // per K
  // Per K, per slice (cold, tail, head): hr, recall, ndcg, mrr.
  std::vector<std::array<std::array<std::string, 4>, 3>> slice_names_;
  std::vector<std::string> violated_names_;  // per ConstraintKind
};

}  // namespace divrec::eval
