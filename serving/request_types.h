// What one recommendation takes and gives (history + settings in, ranked items out), apart from
// the Recommender that computes it, so request parsing needs no LibTorch (fuzz/ builds it alone).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/rerank/reranker.h"
#include "serving/settings.h"

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

}  // namespace divrec::serving
