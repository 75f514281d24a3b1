// OUT.json and the metric table (see report.h).
#include "eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/fs.h"

namespace divrec::eval {

namespace {

nlohmann::json rerank_json(const RerankSetting& s, SimilarityKind sim) {
  const auto& r = s.rerank;
  nlohmann::json j;
  j["method"] = rerank_method_name(r.method);
  j["similarity"] = similarity_kind_name(sim);
  switch (r.method) {  // only the parameters the method uses
    case RerankMethod::kNone:
      break;
    case RerankMethod::kMmr:
    case RerankMethod::kXquad:
      j["lambda"] = r.lambda;
      break;
    case RerankMethod::kDpp:
      j["theta"] = r.theta;
      j["window"] = r.window;
      break;
    case RerankMethod::kCalibrated:
      j["lambda"] = r.lambda;
      j["alpha"] = r.alpha;
      break;
  }
  return j;
}

nlohmann::json constraints_json(const Constraints& c) {
  nlohmann::json j;
  j["min_categories"] = c.min_categories;
  j["max_per_category"] = c.max_per_category;
  j["min_attributes"] = c.min_attributes;
  j["min_attrs_per_item"] = c.min_attrs_per_item;
  j["attrs_per_item_average"] = c.attrs_per_item_average;
  // JSON has no infinity: an unset similarity cap is null.
  j["max_similarity"] =
      std::isfinite(c.max_similarity) ? nlohmann::json(c.max_similarity) : nlohmann::json(nullptr);
  j["min_distinct"] = c.min_distinct;
  return j;
}

// JSON has no NaN/inf either; such a metric (no user had a target, say) is written as null.
nlohmann::json metrics_json(const std::map<std::string, double>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m)
    j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  return j;
}

// Which retrieval found the candidates and, for ANN, its recall@N against the exact top N on the
// evaluated users (the lists measured are the ones served with the same index and parameters).
nlohmann::json retrieval_json(const EvalConfig& config, const EvalResult& result) {
  nlohmann::json j{{"mode", retrieval_mode_name(config.retrieval.mode)},
                   {"used", result.retrieval}};
  if (result.retrieval == "ann") {
    j["index"] = result.ann_index;
    j["kind"] = result.ann_kind;
    j[result.ann_search_parameter] = result.ann_search_value;
    j["ann_candidates"] = config.retrieval.min_candidates;
    j["recall_at"] = result.recall_at;
    j["recall"] = result.ann_recall;
  }
  return j;
}

}  // namespace

nlohmann::json report_json(const EvalConfig& config, const EvalResult& result) {
  nlohmann::json j;
  const SettingResult* first = result.settings.empty() ? nullptr : &result.settings[0];
  j["metrics"] = first ? metrics_json(first->metrics) : nlohmann::json::object();
  j["users"] = result.users;
  j["ranks"] = result.ranks;
  j["rerank"] = first ? rerank_json(first->setting, config.similarity)
                      : rerank_json(RerankSetting{config.rerank, "", 0.0}, config.similarity);
  j["constraints"] = constraints_json(config.constraints);
  j["infeasible_users"] = first ? first->infeasible_users : 0;
  j["split"] = split_name(config.split);
  j["checkpoint"] = result.checkpoint.empty() ? config.checkpoint : result.checkpoint;
  j["data"] = config.data_dir;
  j["candidates"] = config.candidates;
  j["score_precision"] = model::score_precision_name(config.score_precision);
  j["k"] = config.ks;
  j["seconds"] = result.seconds;
  j["retrieval"] = retrieval_json(config, result);
  if (!result.fairness.is_null()) j["fairness"] = result.fairness;
  if (!config.sweep.empty()) {
    auto rows = nlohmann::json::array();
    for (const auto& s : result.settings) {
      nlohmann::json r;
      r["method"] = rerank_method_name(s.setting.rerank.method);
      r["param"] = s.setting.param;
      r["value"] = s.setting.value;
      r["setting"] = s.setting.describe();
      r["rerank"] = rerank_json(s.setting, config.similarity);
      r["metrics"] = metrics_json(s.metrics);
      r["infeasible_users"] = s.infeasible_users;
      rows.push_back(std::move(r));
    }
    j["sweep"] = std::move(rows);
  }
  return j;
}

void write_report(const std::string& path, const EvalConfig& config, const EvalResult& result,
                  int rank) {
  if (rank != 0) return;
  core::write_file_atomic(path, report_json(config, result).dump(2) + "\n");
}

std::string format_metric_table(const std::map<std::string, double>& metrics,
                                const std::vector<int>& ks) {
  // name -> (k -> value); k = -1 for metrics without a cut-off.
  std::map<std::string, std::map<int, double>> rows;
  bool any_plain = false;
  for (const auto& [key, v] : metrics) {
    // "<metric>.count" (users a metric was measured on, when not all) stays in the JSON only.
    if (key.size() > 6 && key.compare(key.size() - 6, 6, ".count") == 0) continue;
    auto at = key.rfind('@');
    int k = -1;
    std::string name = key;
    if (at != std::string::npos) {
      try {
        size_t pos = 0;
        k = std::stoi(key.substr(at + 1), &pos);
        if (pos != key.size() - at - 1) k = -1;
      } catch (...) {
        k = -1;
      }
      if (k >= 0) name = key.substr(0, at);
    }
    any_plain = any_plain || k < 0;
    rows[name][k] = v;
  }
  std::vector<int> cols = ks;
  std::sort(cols.begin(), cols.end());
  size_t wn = 6;
  for (const auto& r : rows) wn = std::max(wn, r.first.size());
  const size_t wv = 10;
  std::string s = fmt::format("{:<{}}", "metric", wn);
  for (int k : cols) s += fmt::format(" {:>{}}", fmt::format("@{}", k), wv);
  if (any_plain) s += fmt::format(" {:>{}}", "(all)", wv);
  s += "\n" + std::string(s.size() - 1, '-') + "\n";
  auto cell = [&](const std::map<int, double>& r, int k) {
    auto it = r.find(k);
    if (it == r.end()) return fmt::format(" {:>{}}", "", wv);
    return fmt::format(" {:>{}.4f}", it->second, wv);
  };
  for (const auto& [name, r] : rows) {
    s += fmt::format("{:<{}}", name, wn);
    for (int k : cols) s += cell(r, k);
    if (any_plain) s += cell(r, -1);
    s += "\n";
  }
  return s;
}

}  // namespace divrec::eval
