// FairExposureDriver (see fair_exposure.h). Everything that decides a multiplier is computed from
// integers summed over ranks (exposure counts; per-user fixed-point values for the merit mass and
// the score spread), so the multipliers -- and with them every list -- are the same bits on any
// number of ranks.
#include "eval/fair_exposure.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "eval/batch_rerank.h"
#include "eval/metrics/exposure.h"
#include "eval/rerank/fair_reranker.h"

namespace divrec::eval {

namespace {

constexpr double kMeritScale = 1099511627776.0;  // 2^40: per-user masses are <= 1
constexpr double kSpreadScale = 16777216.0;      // 2^24

int resolve_k(const FairnessOptions& f, const std::vector<int>& ks) {
  if (f.k > 0) {
    DIVREC_CHECK_HINT(std::count(ks.begin(), ks.end(), f.k) == 1, "add it to --k", "--exposure-k ",
                      f.k, " is not among the cut-offs --k");
    return f.k;
  }
  return std::count(ks.begin(), ks.end(), 10) ? 10 : *std::max_element(ks.begin(), ks.end());
}

double tvd(const std::vector<double>& a, const std::vector<double>& b) {
  return b.empty() ? 0.0 : total_variation(a, b);
}

nlohmann::json shares_json(const std::vector<std::string>& names, const std::vector<double>& v) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t g = 0; g < names.size(); ++g) j[names[g]] = v[g];
  return j;
}

}  // namespace

void validate(const FairnessOptions& f) {
  DIVREC_CHECK(f.mode == "none" || f.mode == "dual", "--fairness: unknown '", f.mode,
               "'; valid: none, dual");
  DIVREC_CHECK(f.tolerance <= 1, "--exposure-tolerance must be <= 1 (a TVD), got ", f.tolerance);
  DIVREC_CHECK(f.min_group_share >= 0 && f.min_group_share < 1,
               "--min-group-share must be in [0, 1), got ", f.min_group_share);
  DIVREC_CHECK(f.max_passes >= 1 && f.max_passes <= 10000,
               "--fairness-passes must be in [1, 10000], got ", f.max_passes);
  DIVREC_CHECK(std::isfinite(f.step) && f.step > 0, "--fairness-step must be > 0, got ", f.step);
  DIVREC_CHECK(f.k >= 0, "--exposure-k must be >= 0, got ", f.k);
  DIVREC_CHECK(f.refine >= 0 && f.refine <= 30, "--fairness-refine must be in [0, 30], got ",
               f.refine);
}

FairExposureDriver::FairExposureDriver(const EvalInputs& in, const EvalOptions& opt,
                                       const FairnessOptions& fairness, core::Communicator& comm)
    : in_(in),
      opt_(opt),
      fair_(fairness),
      candidates_(in, opt),
      suite_(*in.items, in.ild_similarity, [&] {
        MetricOptions mo;
        mo.ks = opt.ks;
        mo.tail_max = opt.tail_max;
        return mo;
      }()) {
  validate(fair_);
  DIVREC_CHECK(fair_.enabled(), "FairExposureDriver needs --fairness dual");
  DIVREC_CHECK(!opt.ks.empty() && *std::min_element(opt.ks.begin(), opt.ks.end()) > 0,
               "--k: cut-offs must be > 0");
  max_k_ = *std::max_element(opt.ks.begin(), opt.ks.end());
  DIVREC_CHECK_HINT(opt.candidates >= max_k_, "raise --candidates or lower --k", "--candidates ",
                    opt.candidates, " is below the largest K ", max_k_);
  validate(opt.constraints);
  k_ = resolve_k(fair_, opt.ks);
  policy_.groups = make_exposure_groups(fair_.groups, *in.items);
  policy_.mu.assign(policy_.groups.names.size(), 0.0);

  const std::vector<int64_t> rows = evaluable_users(*in.users, opt.split, opt.max_users);
  total_users_ = core::allreduce_scalar<int64_t>(comm, static_cast<int64_t>(rows.size()),
                                                 core::ReduceOp::kSum);
  core::log0("fairness: {} users on {} rank(s), {} exposure groups ({}), candidates cached once",
             total_users_, comm.world(), policy_.groups.num_groups(), fair_.groups);
  std::unique_ptr<core::Progress> progress;
  if (opt.progress) progress = std::make_unique<core::Progress>("candidates (rank 0)", rows.size());
  candidates_.run(rows, progress.get(),
                  [&](const std::vector<int64_t>& batch, const model::TopN& top) {
                    rows_.push_back(batch);
                    items_.push_back(top.items);
                    scores_.push_back(top.scores);
                    counts_.push_back(top.count);
                  });
  if (progress) progress->finish();
  target_ =
      fair_.target == "merit" ? merit_target(comm) : exposure_target(fair_.target, policy_.groups);
  spread_ = mean_score_spread(comm);
}

std::vector<double> FairExposureDriver::merit_target(core::Communicator& comm) const {
  // Merit of group g = sum over users of the softmax probability mass of g's items among the
  // user's N candidates (Singh & Joachims' merit = expected relevance), each user's value rounded
  // to 2^-40 so the sum is exact in any split.
  const size_t G = policy_.groups.names.size();
  std::vector<int64_t> mass(G, 0);
  std::vector<double> user(G);
  const int64_t N = candidates_.n();
  for (size_t b = 0; b < rows_.size(); ++b) {
    for (size_t r = 0; r < rows_[b].size(); ++r) {
      const int32_t* it = items_[b].data() + r * N;
      const float* sc = scores_[b].data() + r * N;
      const int n = counts_[b][r];
      if (n == 0) continue;
      double z = 0;
      for (int i = 0; i < n; ++i) z += std::exp(static_cast<double>(sc[i]) - sc[0]);
      std::fill(user.begin(), user.end(), 0.0);
      for (int i = 0; i < n; ++i) {
        const int32_t g = policy_.groups.item_group[static_cast<size_t>(it[i])];
        if (g >= 0) user[g] += std::exp(static_cast<double>(sc[i]) - sc[0]) / z;
      }
      for (size_t g = 0; g < G; ++g) mass[g] += std::llround(user[g] * kMeritScale);
    }
  }
  core::allreduce_sum(comm, mass);
  std::vector<double> t(G);
  double total = 0;
  for (size_t g = 0; g < G; ++g) total += static_cast<double>(mass[g]);
  DIVREC_CHECK(total > 0, "--exposure-target merit: no candidate falls in any exposure group");
  for (size_t g = 0; g < G; ++g) t[g] = static_cast<double>(mass[g]) / total;
  return t;
}

double FairExposureDriver::mean_score_spread(core::Communicator& comm) const {
  // Mean over users of score(1st) - score(K-th candidate): the scale of the first dual step.
  std::vector<int64_t> sum{0, 0};
  const int64_t N = candidates_.n();
  for (size_t b = 0; b < rows_.size(); ++b) {
    for (size_t r = 0; r < rows_[b].size(); ++r) {
      const int n = std::min(counts_[b][r], k_);
      if (n == 0) continue;
      const float* sc = scores_[b].data() + r * N;
      sum[0] += std::llround((static_cast<double>(sc[0]) - sc[n - 1]) * kSpreadScale);
      sum[1] += 1;
    }
  }
  core::allreduce_sum(comm, sum);
  const double spread = sum[1] > 0 ? static_cast<double>(sum[0]) / kSpreadScale / sum[1] : 0.0;
  return spread > 0 ? spread : 1.0;
}

SettingResult FairExposureDriver::pass(const RerankSetting& setting, core::Communicator& comm,
                                       std::vector<double>& share, std::vector<DumpLine>* lines) {
  FairReranker reranker(make_reranker(setting.rerank, *in_.rerank_similarity, *in_.items), policy_);
  BatchReranker br(suite_, {&reranker}, opt_.constraints, opt_.split, max_k_,
                   std::max(1, opt_.threads), &policy_.groups, k_);
  for (size_t b = 0; b < rows_.size(); ++b) {
    const CandidateBlock block{&rows_[b], items_[b].data(), scores_[b].data(), counts_[b].data(),
                               candidates_.n(), candidates_.stage().ann()};
    br.run(*in_.users, block, in_.user_raw_ids, lines);
  }
  std::vector<int64_t> counts = br.group_counts();
  core::allreduce_sum(comm, counts);
  share = group_shares(counts, policy_.groups.num_groups(), k_, fair_.weights);
  return std::move(br.finalize({setting}, comm).front());
}

FairnessRun FairExposureDriver::run(const RerankSetting& setting, double tolerance,
                                    core::Communicator& comm) {
  const std::vector<double> none;
  const std::vector<double>& target = tolerance >= 0 ? target_ : none;
  DIVREC_CHECK_HINT(tolerance >= 0 || fair_.min_group_share > 0,
                    "set --exposure-tolerance >= 0 or --min-group-share > 0",
                    "--fairness dual: no goal (no TVD tolerance and no floor)");
  const auto& names = policy_.groups.names;
  const std::string at = "@" + std::to_string(k_);
  const std::string ndcg_key = "ndcg" + at;
  FairnessRun out;
  nlohmann::json log = nlohmann::json::array();
  std::fill(policy_.mu.begin(), policy_.mu.end(), 0.0);
  DualStepState state;
  std::vector<double> share, share_before, best_share;
  double best_violation = 0;
  int best_pass = -1, passes = 0;
  std::vector<DumpLine> lines;
  // One pass at policy_.mu; keeps it as the answer when `better(violation)`.
  auto step_pass = [&](const char* kind, auto better) {
    const int t = passes++;
    lines.clear();
    SettingResult r = pass(setting, comm, share, opt_.collect_lists ? &lines : nullptr);
    const double v = fairness_violation(share, target, tolerance, fair_.min_group_share);
    r.metrics["exposure_tvd" + at] = tvd(share, target_);
    log.push_back({{"pass", t},
                   {"kind", kind},
                   {"multipliers", policy_.mu},
                   {"share", share},
                   {"exposure_tvd", tvd(share, target_)},
                   {"violation", v},
                   {ndcg_key, r.metrics[ndcg_key]}});
    core::log0("fairness {} pass {} ({}): exposure TVD {:.4f}, violation {:.4f}, {} {:.4f}",
               setting.describe(), t, kind, tvd(share, target_), v, ndcg_key, r.metrics[ndcg_key]);
    if (t == 0) {
      out.before = r;
      share_before = share;
    }
    if (better(v)) {
      best_pass = t;
      best_violation = v;
      best_share = share;
      out.after = std::move(r);
      out.mu = policy_.mu;
      out.lines = std::move(lines);
    }
    return v;
  };
  std::vector<double> failed = policy_.mu;  // the last multipliers that missed the goal
  double v = 1;
  for (int t = 0; t < fair_.max_passes; ++t) {
    // strict: an earlier pass costs less accuracy
    v = step_pass("dual", [&](double x) { return best_pass < 0 || x < best_violation; });
    if (v <= 0) break;
    failed = policy_.mu;
    double initial = 0;
    if (t == 0) {  // the largest first move is `step` mean score spreads
      double largest = 0;
      for (size_t g = 0; g < share.size(); ++g) {
        const double d = (target.empty() ? 0.0 : target[g] - share[g]) +
                         std::max(0.0, fair_.min_group_share - share[g]);
        largest = std::max(largest, std::fabs(d));
      }
      initial = fair_.step * spread_ / std::max(largest, 1e-12);
    }
    dual_step(share, target, fair_.min_group_share, initial, state, policy_.mu);
  }
  // The goal holds at out.mu but not at `failed`: bisect the segment between them for the
  // multipliers closest to `failed` that still meet it (the last dual step usually overshoots,
  // and every unneeded unit of mu costs relevance).
  if (v <= 0 && best_pass > 0) {
    double lo = 0, hi = 1;
    const std::vector<double> meets = out.mu;
    for (int r = 0; r < fair_.refine; ++r) {
      const double mid = 0.5 * (lo + hi);
      for (size_t g = 0; g < meets.size(); ++g) {
        policy_.mu[g] = failed[g] + mid * (meets[g] - failed[g]);
      }
      const double vm = step_pass("refine", [](double x) { return x <= 0; });
      (vm <= 0 ? hi : lo) = mid;
    }
  }
  policy_.mu = out.mu;
  out.after.metrics["fairness_passes"] = passes;
  const double nb = out.before.metrics[ndcg_key], na = out.after.metrics[ndcg_key];
  out.report = {{"mode", "dual"},
                {"groups", fair_.groups},
                {"group_names", names},
                {"target_spec", fair_.target},
                {"target", shares_json(names, target_)},
                {"weights", exposure_weights_name(fair_.weights)},
                {"k", k_},
                {"tolerance", tolerance},
                {"min_group_share", fair_.min_group_share},
                {"step", fair_.step},
                {"score_spread", spread_},
                {"passes", passes},
                {"chosen_pass", best_pass},
                {"converged", best_violation <= 0},
                {"multipliers", shares_json(names, out.mu)},
                {"multiplier_vector", out.mu},
                {"share_before", shares_json(names, share_before)},
                {"share_after", shares_json(names, best_share)},
                {"exposure_tvd_before", tvd(share_before, target_)},
                {"exposure_tvd_after", tvd(best_share, target_)},
                {ndcg_key + "_before", nb},
                {ndcg_key + "_after", na},
                {"ndcg_relative_cost", nb > 0 ? (nb - na) / nb : 0.0},
                {"gini" + at + "_before", out.before.metrics["gini" + at]},
                {"gini" + at + "_after", out.after.metrics["gini" + at]},
                {"log", log}};
  core::log0(
      "fairness {}: {} after {} pass(es) (chosen {}); exposure TVD {:.4f} -> {:.4f}, {} "
      "{:.4f} -> {:.4f}",
      setting.describe(), best_violation <= 0 ? "goal met" : "goal NOT met", passes, best_pass,
      tvd(share_before, target_), tvd(best_share, target_), ndcg_key, nb, na);
  return out;
}

}  // namespace divrec::eval
