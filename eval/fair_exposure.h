// Global fair exposure inside the distributed evaluation (--fairness dual): candidates are scored
// once and cached per rank; then passes alternate between re-ranking every user with the current
// group multipliers mu_g (exposure_policy.h) and one exact all-reduce of the groups' exposure,
// after which mu takes a dual step toward the target (P-MMF, Xu et al., WWW 2023; merit target:
// Singh & Joachims, KDD 2018). docs/diversity.md, "Fair exposure across users", has the formulas.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/comm/communicator.h"
#include "eval/candidate_batches.h"
#include "eval/evaluator.h"
#include "eval/fairness_options.h"
#include "eval/report.h"

namespace divrec::eval {

// One fitted policy for one re-ranking setting.
struct FairnessRun {
  SettingResult before;         // pass 0: mu = 0, i.e. the setting's plain lists
  SettingResult after;          // the chosen pass (the first that met the goal, else the best)
  std::vector<double> mu;       // the chosen multipliers [G], score units
  nlohmann::json report;        // groups, target, shares before/after, multipliers, pass log
  std::vector<DumpLine> lines;  // this rank's lists of the chosen pass (collect_lists)
};

class FairExposureDriver {
 public:
  // Collective. Builds the groups and the target (merit: from the cached candidates), checks the
  // options, and scores this rank's users once. Memory: users x N x (int32 + float) + users x
  // int32 on each rank (Beauty, 22 k users x N 200: 36 MB in all).
  FairExposureDriver(const EvalInputs& in, const EvalOptions& options,
                     const FairnessOptions& fairness, core::Communicator& comm);

  // Collective: passes until fairness_violation() <= 0 or options.max_passes, for one setting and
  // TVD tolerance (< 0: no TVD goal). Every rank returns the same multipliers and metrics, for any
  // number of ranks: the exposure counts are integers, summed exactly.
  FairnessRun run(const RerankSetting& setting, double tolerance, core::Communicator& comm);

  int64_t users() const { return total_users_; }
  int exposure_k() const { return k_; }
  const ExposurePolicy& policy() const { return policy_; }
  const std::vector<double>& target() const { return target_; }
  const CandidateBatches& candidates() const { return candidates_; }

 private:
  // One pass with policy_.mu: the setting's global metrics and the group shares.
  SettingResult pass(const RerankSetting& setting, core::Communicator& comm,
                     std::vector<double>& share, std::vector<DumpLine>* lines);
  std::vector<double> merit_target(core::Communicator& comm) const;
  double mean_score_spread(core::Communicator& comm) const;

  const EvalInputs& in_;
  const EvalOptions& opt_;
  FairnessOptions fair_;
  CandidateBatches candidates_;
  MetricSuite suite_;
  ExposurePolicy policy_;
  std::vector<double> target_;
  int k_ = 10;
  int max_k_ = 0;
  int64_t total_users_ = 0;
  double spread_ = 0;
  // The cache: block b's rows, and its candidates in model::TopN's layout.
  std::vector<std::vector<int64_t>> rows_;
  std::vector<std::vector<int32_t>> items_;
  std::vector<std::vector<float>> scores_;
  std::vector<std::vector<int>> counts_;
};

}  // namespace divrec::eval
