// The evaluation report: OUT.json (exact global metrics with lower-case name@k keys plus what was
// evaluated: re-ranker, constraints, split, checkpoint, data, K) written atomically by rank 0,
// and the human-readable table (metrics as rows, K as columns) printed on rank 0.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/eval_config.h"
#include "eval/sweep.h"

namespace divrec::eval {

// The global result of one re-ranking setting.
struct SettingResult {
  RerankSetting setting;
  std::map<std::string, double> metrics;  // finalized, e.g. "ndcg@10", "gini@10"
  int64_t infeasible_users = 0;           // lists violating a hard constraint
};

struct EvalResult {
  std::vector<SettingResult> settings;  // in make_settings order
  int64_t users = 0;                    // evaluated users, all ranks
  int ranks = 1;
  double seconds = 0;               // wall time of the evaluation pass
  std::string checkpoint;           // the file evaluated
  std::string retrieval = "exact";  // what found the candidates: exact | ann
  int64_t recall_at = 0;            // N: the candidates per user
  double ann_recall = 1.0;          // ann: |ann top-N ∩ exact top-N| / |exact top-N|, all users
  std::string ann_index;            // ann: the index file (or "built in-process")
  std::string ann_kind;             // ann: hnsw | ivf-flat
  // ann: the index's search parameter and its value (AnnIndex::search_parameter): "nprobe"
  // (lists probed, --nprobe 0 resolved) for ivf-flat, "ef_search" for hnsw.
  std::string ann_search_parameter;
  int ann_search_value = 0;
  // --fairness dual: the fitted policy (fair_exposure.h; an array of them for a tolerance
  // sweep); null otherwise.
  nlohmann::json fairness;
};

// The JSON document. Top level describes settings[0]; a sweep adds "sweep": one object per
// setting (method, param, value, setting, rerank, metrics, infeasible_users).
nlohmann::json report_json(const EvalConfig& config, const EvalResult& result);
// Rank 0 writes report_json atomically (others return at once).
void write_report(const std::string& path, const EvalConfig& config, const EvalResult& result,
                  int rank);

// Rows: metric names without "@k" (ndcg, hr, ild, ...); columns: each K; metrics without a
// cut-off get a column of their own ("<metric>.count" entries are left out). Values with 4
// decimals.
std::string format_metric_table(const std::map<std::string, double>& metrics,
                                const std::vector<int>& ks);

}  // namespace divrec::eval
