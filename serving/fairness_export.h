// The fair-exposure policy a serving artifact carries: what `divrec eval --fairness dual` fitted
// (groups, final multipliers, target, position weights, cut-off), read from the eval report by
// `divrec export --fairness-policy REPORT.json`, stored in the artifact's /fairness group and
// covered by its checksum. Layout: docs/serving.md, "Fair exposure".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "data_shards/h5.h"
#include "eval/rerank/exposure_policy.h"

namespace divrec::serving {

struct FairnessExport {
  eval::ExposurePolicy policy;  // groups (spec, item_group [I], names [G]) and multipliers [G]
  std::vector<double> target;   // [G], sums to 1
  eval::ExposureWeights weights = eval::ExposureWeights::kUniform;
  int k = 10;               // the cut-off whose exposure counts
  double tolerance = 0.05;  // the goal (online adaptation keeps steering toward it)
  double min_group_share = 0;
  double step = 0.25;       // online: step in score spreads per unit of share gap
  double score_spread = 1;  // eval's mean top-K score spread (the unit of mu)
  std::string source;       // the eval report it came from

  bool present() const { return policy.active(); }
};

// Reads the "fairness" object of a `divrec eval --fairness dual` report (a single run, not a
// sweep) and rebuilds the groups from its spec over `items` (the artifact's catalog; the group
// names must match the report's). Errors name the file and what is missing.
FairnessExport fairness_from_report(const std::string& report_path, const data::ItemTable& items);

// /fairness in the artifact (nothing when !present()).
void write_fairness(const data::h5::Group& root, const FairnessExport& f);
// Absent group: an empty export. `where` names the file in errors.
FairnessExport read_fairness(const data::h5::Group& root, int64_t num_items,
                             const std::string& where);
// Continues the artifact checksum over the policy (unchanged crc when absent).
uint32_t fairness_checksum(const FairnessExport& f, uint32_t crc);

}  // namespace divrec::serving
