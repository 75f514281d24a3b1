// Names, option parsing and validation for re-ranking, and the factory that builds a method.
#include "eval/rerank/reranker.h"

#include "core/check.h"
#include "eval/rerank/calibrated.h"
#include "eval/rerank/dpp.h"
#include "eval/rerank/mmr.h"
#include "eval/rerank/none.h"
#include "eval/rerank/xquad.h"

namespace divrec::eval {

Candidates::Candidates(const std::vector<int32_t>& items_, const std::vector<float>& scores_)
    : items(items_.data()), scores(scores_.data()), n(static_cast<int>(items_.size())) {
  DIVREC_CHECK(items_.size() == scores_.size(), "candidates: ", items_.size(), " items but ",
               scores_.size(), " scores");
}

const char* reason_name(Reason r) {
  switch (r) {
    case Reason::kRelevance:
      return "relevance";
    case Reason::kDiversity:
      return "diversity";
    case Reason::kMinCategories:
      return "min_categories";
    case Reason::kMaxPerCategory:
      return "max_per_category";
    case Reason::kMinAttributes:
      return "min_attributes";
    case Reason::kAttrsPerItem:
      return "min_attrs_per_item";
    case Reason::kMaxSimilarity:
      return "max_similarity";
    case Reason::kMinDistinct:
      return "min_distinct";
    case Reason::kFallback:
      return "fallback";
  }
  return "?";
}

Reason reason_for(ConstraintKind kind) {
  switch (kind) {
    case ConstraintKind::kAttrsPerItem:
      return Reason::kAttrsPerItem;
    case ConstraintKind::kMaxPerCategory:
      return Reason::kMaxPerCategory;
    case ConstraintKind::kMaxSimilarity:
      return Reason::kMaxSimilarity;
    case ConstraintKind::kMinCategories:
      return Reason::kMinCategories;
    case ConstraintKind::kMinAttributes:
      return Reason::kMinAttributes;
    case ConstraintKind::kMinDistinct:
      return Reason::kMinDistinct;
  }
  return Reason::kFallback;
}

RerankMethod parse_rerank_method(const std::string& name) {
  if (name == "none") return RerankMethod::kNone;
  if (name == "mmr") return RerankMethod::kMmr;
  if (name == "dpp") return RerankMethod::kDpp;
  if (name == "xquad") return RerankMethod::kXquad;
  if (name == "calibrated") return RerankMethod::kCalibrated;
  DIVREC_FAIL("--rerank: unknown method '", name, "'; valid: none, mmr, dpp, xquad, calibrated");
}

const char* rerank_method_name(RerankMethod m) {
  switch (m) {
    case RerankMethod::kNone:
      return "none";
    case RerankMethod::kMmr:
      return "mmr";
    case RerankMethod::kDpp:
      return "dpp";
    case RerankMethod::kXquad:
      return "xquad";
    case RerankMethod::kCalibrated:
      return "calibrated";
  }
  return "?";
}

void validate(const RerankConfig& c) {
  DIVREC_CHECK(c.lambda >= 0.0 && c.lambda <= 1.0, "--lambda must be in [0, 1], got ", c.lambda);
  DIVREC_CHECK(c.theta >= 0.0 && c.theta <= 40.0, "--theta must be in [0, 40], got ", c.theta);
  DIVREC_CHECK(c.window >= 0, "--window must be >= 0 (0 = no sliding window), got ", c.window);
  DIVREC_CHECK(c.alpha > 0.0 && c.alpha <= 1.0, "calibration alpha must be in (0, 1], got ",
               c.alpha);
}

Reranker::~Reranker() = default;

RerankResult Reranker::rerank(const Candidates& candidates, const UserContext& user, int k,
                              const Constraints& constraints, Workspace& ws) const {
  RerankResult out;
  rerank_into(candidates, user, k, constraints, ws, out);
  return out;
}

std::unique_ptr<Reranker> make_reranker(const RerankConfig& config, const ItemSimilarity& sim,
                                        const data::ItemTable& items) {
  validate(config);
  DIVREC_CHECK(sim.num_items() == items.num_items, "re-ranker: the similarity covers ",
               sim.num_items(), " items but the item table has ", items.num_items);
  DIVREC_CHECK(
      items.category.empty() || static_cast<int64_t>(items.category.size()) == items.num_items,
      "re-ranker: item table has ", items.category.size(), " categories for ", items.num_items,
      " items");
  DIVREC_CHECK(items.attr_offsets.empty() ||
                   static_cast<int64_t>(items.attr_offsets.size()) == items.num_items + 1,
               "re-ranker: item table attr_offsets has ", items.attr_offsets.size(),
               " entries, expected ", items.num_items + 1);
  switch (config.method) {
    case RerankMethod::kNone:
      return std::make_unique<NoneReranker>(sim, items);
    case RerankMethod::kMmr:
      return std::make_unique<MmrReranker>(sim, items, config.lambda);
    case RerankMethod::kDpp:
      return std::make_unique<DppReranker>(sim, items, config.theta, config.window);
    case RerankMethod::kXquad:
      return std::make_unique<XquadReranker>(sim, items, config.lambda);
    case RerankMethod::kCalibrated:
      return std::make_unique<CalibratedReranker>(sim, items, config.lambda, config.alpha);
  }
  DIVREC_FAIL("re-ranker: unhandled method");
}

}  // namespace divrec::eval
