// `divrec eval --fairness dual`: the fair-exposure driver (fair_exposure.h) run for the evaluated
// setting, or for every method of --sweep-methods at every value of --sweep tolerance=VALUES
// (candidates scored once for all), shaped as an evaluation result for the report and sweep CSV.
#pragma once

#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "eval/evaluator.h"
#include "eval/fairness_options.h"

namespace divrec::eval {

// One setting per method of --sweep-methods (each with base's parameters), or {base} when empty.
std::vector<RerankSetting> fair_settings(const std::vector<std::string>& methods,
                                         const RerankConfig& base);

// Collective. sweep: "" or "tolerance=VALUES" (parse_sweep_values syntax). Result settings: one
// per (method, tolerance), the metrics of the chosen pass with exposure_tvd@K and
// fairness_passes added; result.fairness: the driver's report (an array when sweeping). Lines:
// the first run's chosen lists.
EvalPass evaluate_fair(const EvalInputs& in, const EvalOptions& options,
                       const FairnessOptions& fairness, const std::string& sweep,
                       core::Communicator& comm);

}  // namespace divrec::eval
