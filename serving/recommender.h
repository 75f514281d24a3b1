// Recommender: a loaded serving artifact answering requests. History (raw ids) -> user vector
// (the transformer over the precomputed item vectors) -> scores of the whole catalog -> history
// masked -> top-N candidates -> re-ranking + constraints (eval/rerank) -> k items with reasons.
// Immutable after construction and safe for concurrent requests (per-thread scratch).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/rerank/reranker.h"
#include "eval/rerank/similarity.h"
#include "serving/artifact.h"
#include "serving/settings.h"
#include "trainer/model/seq_model.h"

namespace divrec::serving {

struct RecommendRequest {
  std::vector<std::string> history;  // raw item ids, oldest first
  RecommendSettings settings;
};

struct RecommendedItem {
  std::string item;           // raw id
  int32_t index = -1;         // dense id in the artifact's item table
  float score = 0;            // relevance: the model's score (popularity count on fallback)
  int32_t category = -1;      // dense category, -1 = none
  std::string category_name;  // "" when none
  eval::Reason reason = eval::Reason::kRelevance;  // why it was picked (eval::reason_name)
};

struct Recommendation {
  std::vector<RecommendedItem> items;
  std::vector<std::string> unknown;   // history ids not in the catalog: ignored, listed here
  int64_t history_used = 0;           // known history items (all masked; the last max_len encoded)
  bool popularity_fallback = false;   // no known history item: most popular items instead
  bool feasible = true;               // the list satisfies every requested constraint
  std::vector<std::string> violated;  // names of violated constraints (when not feasible)
};

class Recommender {
 public:
  // Rebuilds the model from the artifact (eval mode, no autograd) and indexes the raw ids.
  explicit Recommender(Artifact artifact);
  static std::shared_ptr<const Recommender> load(const std::string& path);
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  // Raw ids -> dense (unknown ids listed, not an error), then recommend_dense. Validates the
  // settings (divrec::Error naming the field).
  Recommendation recommend(const RecommendRequest& request) const;
  // Dense history (ids in [0, I), oldest first). An empty history gives the popularity
  // fallback: candidates are the N most popular items (train interactions, ties by dense id)
  // scored by their popularity count, then re-ranked like any other list.
  Recommendation recommend_dense(const std::vector<int32_t>& history,
                                 const RecommendSettings& settings) const;

  // Relevance of every item for a non-empty dense history: model::score_history, the function
  // `divrec eval` scores with (bit-identical scores). out has num_items() entries; history
  // items are NOT masked here.
  void score_all(const int32_t* history, int64_t n, float* out) const;
  // The N best unmasked items of `scores` (masked = -inf), by score descending: torch::topk of
  // the row, cut at the first masked item, which is exactly how `divrec eval` picks candidates
  // (so even exact score ties come out in the same order).
  static void top_candidates(const float* scores, int64_t num_items, int n,
                             std::vector<int32_t>& items, std::vector<float>& top_scores);

  const Artifact& artifact() const { return artifact_; }  // weights moved into the model
  const data::ItemTable& items() const { return artifact_.items; }
  const RecommendSettings& defaults() const { return artifact_.defaults; }
  int64_t num_items() const { return artifact_.items.num_items; }
  int32_t dense_id(const std::string& raw_id) const;  // -1 when unknown
  // What GET /v1/model reports: format version, checksum, catalog sizes, config, defaults.
  nlohmann::json describe() const;

 private:
  const eval::ItemSimilarity& similarity(eval::SimilarityKind kind) const;

  Artifact artifact_;
  mutable model::SeqModel model_{nullptr};  // forward passes only (eval mode, no grad)
  std::unordered_map<std::string, int32_t> index_;
  std::vector<int32_t> by_popularity_;  // dense ids, most popular first (fallback order)
  eval::ItemSimilarity cosine_;
  eval::ItemSimilarity jaccard_;
};

}  // namespace divrec::serving
