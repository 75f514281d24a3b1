// Parameter sweeps of the re-rankers: the settings one evaluation pass runs (--sweep
// lambda=0,0.1,...,1 over --sweep-methods), the trade-off CSV (method, param, value, setting,
// every metric) and its accuracy-vs-diversity plot (tools/plot_sweep.py, best effort).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "eval/rerank/reranker.h"

namespace divrec::eval {

// One re-ranking setting evaluated in a pass. param/value: the swept parameter as given
// ("" and 0 when not a sweep); rerank holds the values actually used.
struct RerankSetting {
  RerankConfig rerank;
  std::string param;
  double value = 0.0;
  std::string describe() const;  // "mmr lambda=0.3", "dpp theta=1.5 window=0", ...
};

// "0,0.1,0.2" or with an arithmetic run "0,0.1,...,1" (step from the two values before "...",
// up to and including the value after it). Throws naming --sweep on bad text.
std::vector<double> parse_sweep_values(const std::string& text);

// The settings of `--sweep PARAM=VALUES` over `methods` (empty: base.method only), each other
// parameter taken from base. PARAM is lambda | theta | window | alpha. Each method reads the
// value in its own convention (docs/diversity.md): MMR's lambda weighs relevance (Carbonell &
// Goldstein), xQuAD's and calibrated's weigh diversity. lambda and theta are two scales of one
// trade-off, so a method that has the other one gets it mapped through the diversity weight
// w = 1 / (1 + 2 theta), i.e. theta = (1 - w) / (2 w) (Chen et al.'s alpha for relevance weight
// 1 - w): DPP under a lambda sweep uses theta = min(40, (1 - lambda) / (2 lambda)); under a theta
// sweep xQuAD / calibrated use lambda = w and MMR lambda = 1 - w. window (DPP) and alpha
// (calibrated) apply to their method only; other methods are rejected with a clear error.
// sweep == "" returns {base}.
std::vector<RerankSetting> make_settings(const std::string& sweep,
                                         const std::vector<std::string>& methods,
                                         const RerankConfig& base);

// rows[i] = the finalized metrics of settings[i]. Columns: method,param,value,setting, then the
// union of metric names (sorted). Written atomically.
void write_sweep_csv(const std::string& path, const std::vector<RerankSetting>& settings,
                     const std::vector<std::map<std::string, double>>& rows);

// Runs /usr/bin/python3 tools/plot_sweep.py CSV PNG --k K. Returns false (after logging a
// warning that says what is missing) when python, matplotlib or the script is unavailable; the
// CSV is the product, the PNG only its picture.
bool plot_sweep(const std::string& csv, const std::string& png, int k);

// Where tools/plot_sweep.py is: $DIVREC_PLOT_SCRIPT, else searched upward from the executable
// and from the working directory. "" when not found.
std::string find_plot_script();

}  // namespace divrec::eval
