// evaluate_fair (see fair_eval.h).
#include "eval/fair_eval.h"

#include <chrono>

#include "core/check.h"
#include "core/comm/typed.h"
#include "eval/fair_exposure.h"

namespace divrec::eval {

std::vector<RerankSetting> fair_settings(const std::vector<std::string>& methods,
                                         const RerankConfig& base) {
  std::vector<RerankSetting> out;
  for (const auto& name : methods) {
    RerankConfig c = base;
    c.method = parse_rerank_method(name);
    for (const auto& s : out) {
      DIVREC_CHECK(s.rerank.method != c.method, "--sweep-methods lists '", name, "' twice");
    }
    validate(c);
    out.push_back(RerankSetting{c, "", 0.0});
  }
  if (out.empty()) out.push_back(RerankSetting{base, "", 0.0});
  return out;
}

EvalPass evaluate_fair(const EvalInputs& in, const EvalOptions& opt, const FairnessOptions& fair,
                       const std::string& sweep, core::Communicator& comm) {
  DIVREC_CHECK(!opt.settings.empty(), "evaluate: no re-ranking setting");
  std::vector<double> tolerances{fair.tolerance};
  const std::string param = "tolerance=";
  if (!sweep.empty()) {
    DIVREC_CHECK_HINT(sweep.rfind(param, 0) == 0, "e.g. --sweep tolerance=1,0.2,0.1,0.05",
                      "--fairness dual sweeps only the exposure tolerance, got --sweep '", sweep,
                      "'");
    tolerances = parse_sweep_values(sweep.substr(param.size()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  FairExposureDriver driver(in, opt, fair, comm);
  EvalPass pass;
  EvalResult& r = pass.result;
  nlohmann::json reports = nlohmann::json::array();
  for (const RerankSetting& base : opt.settings) {
    for (double tol : tolerances) {
      FairnessRun run = driver.run(base, tol, comm);
      SettingResult sr = std::move(run.after);
      if (!sweep.empty()) {
        sr.setting.param = "tolerance";
        sr.setting.value = tol;
      }
      run.report["setting"] = base.describe();
      run.report["metrics_before"] = run.before.metrics;
      reports.push_back(std::move(run.report));
      r.settings.push_back(std::move(sr));
      if (pass.lines.empty()) pass.lines = std::move(run.lines);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.ranks = comm.world();
  r.seconds = core::allreduce_scalar<double>(comm, seconds, core::ReduceOp::kMax);
  r.users = driver.users();
  r.fairness = sweep.empty() ? reports.front() : reports;
  fill_retrieval(driver.candidates().stage(), driver.candidates().n(), comm, r);
  return pass;
}

}  // namespace divrec::eval
