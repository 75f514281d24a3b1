// MetricSuite: precomputes what is per-catalog (self-information, category sizes, head items,
// metric names) once, then adds each user's metrics at every cut-off.
#include "eval/metrics/suite.h"

#include <algorithm>
#include <array>

#include "core/check.h"
#include "eval/metrics/diversity.h"
#include "eval/metrics/ranking.h"

namespace divrec::eval {

namespace {

constexpr std::array<const char*, 3> kSliceNames{"cold", "tail", "head"};

}  // namespace

MetricSuite::MetricSuite(const data::ItemTable& items, const ItemSimilarity* ild_similarity,
                         MetricOptions options)
    : items_(items), ild_similarity_(ild_similarity), options_(std::move(options)) {
  DIVREC_CHECK(!options_.ks.empty(), "metrics need at least one cut-off K");
  DIVREC_CHECK(ild_similarity_ == nullptr || ild_similarity_->num_items() == items.num_items,
               "ILD similarity covers ", ild_similarity_ ? ild_similarity_->num_items() : 0,
               " items, the item table ", items.num_items);
  context_ = ExposureContext::make(items, options_.head_fraction);
  self_information_ = item_self_information(items);
  category_size_.assign(static_cast<size_t>(std::max<int64_t>(items.num_categories, 0)), 0);
  for (int32_t c : context_->category) {
    if (c >= 0) ++category_size_[static_cast<size_t>(c)];
  }
  for (int k : options_.ks) {
    const std::string at = "@" + std::to_string(k);
    names_.push_back({"hr" + at, "recall" + at, "ndcg" + at, "mrr" + at, "ild" + at,
                      "category_ild" + at, "category_coverage" + at, "categories" + at,
                      "attribute_coverage" + at, "alpha_ndcg" + at, "calibration_kl" + at,
                      "novelty" + at, "serendipity" + at});
    auto& sn = slice_names_.emplace_back();
    for (size_t sl = 0; sl < kSliceNames.size(); ++sl) {
      const std::string p = std::string(kSliceNames[sl]) + ".";
      sn[sl] = {p + "hr" + at, p + "recall" + at, p + "ndcg" + at, p + "mrr" + at};
    }
  }
  DIVREC_CHECK(options_.tail_max >= 1, "the tail slice needs tail_max >= 1, got ",
               options_.tail_max);
  for (int k = 0; k < kNumConstraintKinds; ++k) {
    violated_names_.push_back(std::string("violated.") +
                              constraint_name(static_cast<ConstraintKind>(k)));
  }
}

MetricAccumulator MetricSuite::make_accumulator() const {
  return MetricAccumulator(context_, options_.ks);
}

void MetricSuite::add_user(MetricAccumulator& acc, const int32_t* list, int len,
                           const int32_t* targets, int num_targets,
                           const CategoryDistribution& history, MetricScratch& s,
                           const RelevanceTies* ties) const {
  for (int p = 0; p < len; ++p) {
    DIVREC_CHECK(list[p] >= 0 && list[p] < items_.num_items, "metrics: listed item ", list[p],
                 " at rank ", p + 1, " is outside [0, ", items_.num_items, ")");
  }
  // Where a target ties with other items it ranks after them (docs/diversity.md, "Ties").
  const int32_t* ranked = list;
  if (ties != nullptr &&
      pessimistic_target_list(list, len, targets, num_targets, *ties, s.target_view)) {
    ranked = s.target_view.data();
  }
  int slice = -1;  // the first target's popularity slice (MetricOptions)
  if (options_.slices && num_targets > 0 &&
      static_cast<size_t>(targets[0]) < items_.popularity.size()) {
    const int64_t pop = items_.popularity[static_cast<size_t>(targets[0])];
    slice = pop == 0 ? 0 : pop <= options_.tail_max ? 1 : 2;
  }
  for (size_t j = 0; j < options_.ks.size(); ++j) {
    const int k = options_.ks[j];
    const Names& n = names_[j];
    const RankingMetrics r = ranking_metrics(ranked, len, targets, num_targets, k);
    acc.add(n.hr, r.hr);
    acc.add(n.recall, r.recall);
    acc.add(n.ndcg, r.ndcg);
    acc.add(n.mrr, r.mrr);
    if (slice >= 0) {
      const auto& sn = slice_names_[j][static_cast<size_t>(slice)];
      acc.add(sn[0], r.hr);
      acc.add(sn[1], r.recall);
      acc.add(sn[2], r.ndcg);
      acc.add(sn[3], r.mrr);
    }
    if (ild_similarity_ != nullptr) {
      acc.add(n.ild, intra_list_diversity(list, len, k, *ild_similarity_, s.floats));
    }
    acc.add(n.category_ild, category_ild(list, len, k, items_));
    acc.add(n.category_coverage, category_coverage(list, len, k, items_, s.ints));
    acc.add(n.categories, distinct_categories(list, len, k, items_, s.ints));
    acc.add(n.attribute_coverage, distinct_attributes(list, len, k, items_, s.ints));
    acc.add(n.alpha_ndcg, alpha_ndcg(list, len, k, targets, num_targets, items_, category_size_,
                                     options_.alpha_ndcg, s.ints));
    if (!history.empty()) {
      acc.add(n.calibration_kl, list_calibration_kl(list, len, k, items_, history,
                                                    options_.calibration_alpha, s.doubles));
    }
    acc.add(n.novelty, novelty(list, len, k, self_information_));
    acc.add(n.serendipity, serendipity(ranked, len, k, targets, num_targets, items_, history));
  }
  acc.count("users");
  if (slice >= 0) acc.count(std::string(kSliceNames[static_cast<size_t>(slice)]) + ".users");
  acc.expose(list, len);
}

void MetricSuite::add_rerank_outcome(MetricAccumulator& acc, const RerankResult& result,
                                     const Constraints& constraints) const {
  acc.count("infeasible_users", result.feasible ? 0 : 1);
  acc.add("constraint_satisfied", result.feasible ? 1.0 : 0.0);
  for (int k = 0; k < kNumConstraintKinds; ++k) {
    const auto kind = static_cast<ConstraintKind>(k);
    if (!constraints.enabled(kind)) continue;
    const bool bad = std::find(result.violated.begin(), result.violated.end(),
                               constraint_name(kind)) != result.violated.end();
    acc.add(violated_names_[static_cast<size_t>(k)], bad ? 1.0 : 0.0);
  }
}

}  // namespace divrec::eval
