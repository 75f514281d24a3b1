// The whole `divrec eval` job once options are parsed: read the dataset (this rank's users), load
// the checkpoint's model, build the similarities, run the evaluation pass, then on rank 0 write
// OUT.json, print the metric table, and for sweeps write OUT.csv + OUT.png; --dump-lists last.
#pragma once

#include <string>

#include "core/comm/communicator.h"
#include "eval/eval_config.h"
#include "eval/report.h"

namespace divrec::eval {

// Collective. Returns the global result (identical on every rank).
EvalResult run_eval(const EvalConfig& config, core::Communicator& comm);

// "OUT.json" -> "OUT": the stem of OUT.csv, OUT.png and OUT.config.ini.
std::string report_stem(const std::string& report_path);

}  // namespace divrec::eval
