// What `divrec eval --fairness dual` is told (docs/cli.md, "Fair exposure"): the groups, their
// target shares, how positions weigh, the goal (tolerance and/or floor) and the pass budget.
#pragma once

#include <string>

#include "eval/rerank/exposure_policy.h"

namespace divrec::eval {

struct FairnessOptions {
  std::string mode = "none";        // none | dual
  std::string groups = "category";  // --exposure-groups
  std::string target = "catalog";   // --exposure-target catalog | uniform | merit | FILE
  ExposureWeights weights = ExposureWeights::kUniform;
  double tolerance = 0.05;     // --exposure-tolerance: max TVD(share, target); < 0 = no TVD goal
  double min_group_share = 0;  // --min-group-share: floor of every group's share (0 = off)
  int max_passes = 30;         // --fairness-passes: re-ranking passes at most (the first: mu = 0)
  double step = 0.25;  // --fairness-step: first move of the largest |mu_g|, in mean score spreads
  // --fairness-refine: bisection passes between the last multipliers that missed the goal and
  // the first that met it (the cheapest policy on that segment).
  int refine = 4;
  int k = 0;  // --exposure-k: cut-off whose exposure counts (0 = 10 if among --k, else max)

  bool enabled() const { return mode == "dual"; }
};

// Throws naming the option when a value is out of range or the mode unknown.
void validate(const FairnessOptions& options);

}  // namespace divrec::eval
