// Fair exposure across users: item groups, their target shares of exposure, the position weights,
// and the policy that adds a multiplier mu_g to the relevance of every candidate of group g before
// any re-ranker runs. Pure math without MPI or a model, so `divrec eval --fairness dual` (which
// fits the multipliers) and serving (which applies and adapts them) share one definition.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::eval {

enum class ExposureWeights { kUniform, kLog };

// "uniform" | "log"; throws naming --exposure-weights otherwise.
ExposureWeights parse_exposure_weights(const std::string& name);
const char* exposure_weights_name(ExposureWeights w);
// Weight of the 0-based list position p: 1 (uniform, what category_exposure_tvd@k counts) or
// 1 / log2(p + 2) (log: the DCG discount of rank p + 1; Singh & Joachims 2018).
double position_weight(ExposureWeights w, int p);

// Dense item ids, most train interactions first, ties by lower id: the order that defines the
// head of long_tail_share@k (metrics/exposure.h) and the popularity bins below.
std::vector<int32_t> items_by_popularity(const data::ItemTable& items);

struct ExposureGroups {
  std::string spec;                 // what made it (--exposure-groups as given)
  std::vector<int32_t> item_group;  // [I] group of each dense item, -1 = in no group
  std::vector<std::string> names;   // [G]
  int num_groups() const { return static_cast<int>(names.size()); }
};

// --exposure-groups:
//   category            G = the dataset's categories (uncategorised items in no group);
//   popularity-bins[:B] B >= 2 bins (default 2) by train popularity (ties: lower id first): bin 0
//                       "head" = the ceil(0.2 I) most popular items (the head of
//                       long_tail_share@k), bins 1..B-1 split the rest into equal-count bins;
//   FILE                lines "raw_item_id,group" (or tab-separated; '#' comments); groups
//                       named by first appearance; unlisted items in no group.
// Throws naming the option, file and line on bad input.
ExposureGroups make_exposure_groups(const std::string& spec, const data::ItemTable& items);

// --exposure-target catalog | uniform | FILE: a share per group, summing to 1.
//   catalog  the group's share of grouped catalog items;  uniform  1 / G;
//   FILE     lines "group,share" for every group (normalised to sum 1; all >= 0, sum > 0).
// "merit" (proportional to the group's relevance mass, Singh & Joachims 2018) needs the users'
// candidates: the evaluator computes it with merit_target(); this function throws for it.
std::vector<double> exposure_target(const std::string& spec, const ExposureGroups& groups);

// Exposure of one list at cut-off k as integer counts: counts[g * k + p] += 1 for the item at
// position p < min(k, len) when it is in group g. counts has G * k entries.
void count_group_exposure(const ExposureGroups& groups, const int32_t* list, int len, int k,
                          int64_t* counts);
// Each group's share of the weighted exposure sum_p w(p) counts[g*k+p] (all zeros when none).
std::vector<double> group_shares(const std::vector<int64_t>& counts, int num_groups, int k,
                                 ExposureWeights weights);

// The multipliers and the groups they apply to. apply() is what every list of the policy goes
// through: score'_i = float(score_i + mu_{g(i)}) (mu 0 for ungrouped items), candidates re-sorted
// by score' descending, ties by the original position.
struct ExposurePolicy {
  ExposureGroups groups;
  std::vector<double> mu;  // [G], in the model's score units (logits)

  bool active() const { return !mu.empty(); }
  // n candidates in; order[n] = original positions in the new order, adjusted[n] = score'.
  void apply(const int32_t* items, const float* scores, int n, std::vector<int32_t>& order,
             std::vector<int32_t>& out_items, std::vector<float>& adjusted) const;
};

// Violation of the fairness goal: max(TVD(share, target) - tolerance, max_g(floor - share_g), 0)
// with target empty meaning no TVD goal and floor 0 no floor goal. 0 = the goal holds.
double fairness_violation(const std::vector<double>& share, const std::vector<double>& target,
                          double tolerance, double floor);

// The dual step of P-MMF (Xu et al., WWW 2023) for an exposure target: the subgradient of the
// Lagrangian in mu_g is (target_g - share_g) (raise under-exposed groups), plus
// max(0, floor - share_g) for a max-min floor. Projected, per group adapted step:
//   d_g = target_g - share_g + max(0, floor - share_g)   (target part 0 without a target)
//   eta_g *= 1.2 when d_g keeps its sign, *= 0.5 when it flips (Rprop-style, Riedmiller & Braun
//   1993; the response of discrete lists to mu is piecewise constant, so a fixed step oscillates)
//   mu_g += eta_g d_g; then with a target mu -= mean(mu) (a common shift changes no list), with
//   only a floor mu_g = max(0, mu_g) (floors are inequality constraints: multipliers >= 0).
// State: eta [G] (set to the initial step on the first call), last [G] (previous d).
struct DualStepState {
  std::vector<double> eta;
  std::vector<double> last;
};
void dual_step(const std::vector<double>& share, const std::vector<double>& target, double floor,
               double initial_step, DualStepState& state, std::vector<double>& mu);

}  // namespace divrec::eval
