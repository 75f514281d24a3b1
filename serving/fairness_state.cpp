// FairnessState (see fairness_state.h).
#include "serving/fairness_state.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace divrec::serving {

namespace {

nlohmann::json named(const std::vector<std::string>& names, const std::vector<double>& v) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t g = 0; g < names.size(); ++g) j[names[g]] = v[g];
  return j;
}

double tvd(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return 0.5 * s;
}

}  // namespace

FairnessState::FairnessState(const FairnessExport& exported, const FairnessOnline& online)
    : exported_(exported),
      online_(online),
      groups_(exported.policy.groups.num_groups()),
      policy_(std::make_shared<const eval::ExposurePolicy>(exported.policy)),
      counts_(static_cast<size_t>(groups_) * static_cast<size_t>(exported.k)),
      window_base_(counts_.size(), 0) {
  DIVREC_CHECK(exported_.present(), "FairnessState needs an exported fairness policy");
  DIVREC_CHECK(online_.every > 0, "--fairness-online-every must be > 0, got ", online_.every);
}

std::shared_ptr<const eval::ExposurePolicy> FairnessState::policy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return policy_;
}

void FairnessState::record(const int32_t* list, int len) {
  std::vector<int64_t> mine(counts_.size(), 0);
  eval::count_group_exposure(exported_.policy.groups, list, len, exported_.k, mine.data());
  for (size_t i = 0; i < mine.size(); ++i) {
    if (mine[i] != 0) counts_[i].fetch_add(mine[i], std::memory_order_relaxed);
  }
  const int64_t n = lists_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (online_.enabled && n % online_.every == 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    step_locked();
  }
}

void FairnessState::step_locked() {
  // The exposure of the lists served since the last step (a window, so the multipliers follow
  // the traffic), then eval's dual step; the first step size is `step` score spreads per unit of
  // share gap (eval scales the first move the same way).
  std::vector<int64_t> window(counts_.size());
  for (size_t i = 0; i < window.size(); ++i) {
    const int64_t now = counts_[i].load(std::memory_order_relaxed);
    window[i] = now - window_base_[i];
    window_base_[i] = now;
  }
  const auto share = eval::group_shares(window, groups_, exported_.k, exported_.weights);
  const std::vector<double> none;
  const auto& target = exported_.tolerance >= 0 ? exported_.target : none;
  if (eval::fairness_violation(share, target, exported_.tolerance, exported_.min_group_share) <=
      0) {
    return;  // the goal holds on this window: keep the multipliers
  }
  auto next = std::make_shared<eval::ExposurePolicy>(*policy_);
  eval::dual_step(share, target, exported_.min_group_share, exported_.step * exported_.score_spread,
                  state_, next->mu);
  policy_ = std::move(next);
  ++steps_;
}

nlohmann::json FairnessState::describe() const {
  std::vector<int64_t> c(counts_.size());
  for (size_t i = 0; i < c.size(); ++i) c[i] = counts_[i].load(std::memory_order_relaxed);
  const auto share = eval::group_shares(c, groups_, exported_.k, exported_.weights);
  const auto& names = exported_.policy.groups.names;
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"groups", exported_.policy.groups.spec},
          {"weights", eval::exposure_weights_name(exported_.weights)},
          {"k", exported_.k},
          {"target", named(names, exported_.target)},
          {"multipliers", named(names, policy_->mu)},
          {"exported_multipliers", named(names, exported_.policy.mu)},
          {"lists", lists_.load(std::memory_order_relaxed)},
          {"share", named(names, share)},
          {"exposure_tvd", tvd(share, exported_.target)},
          {"online", {{"enabled", online_.enabled}, {"every", online_.every}, {"steps", steps_}}}};
}

}  // namespace divrec::serving
