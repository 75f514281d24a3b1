// RecommendSettings: everything a recommendation request can choose besides the history (list
// length, candidate count, re-ranking method, similarity, hard constraints), with the JSON form
// shared by the artifact's defaults, `divrec recommend` request lines and `POST /v1/recommend`.
#pragma once

#include <exception>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "eval/rerank/constraints.h"
#include "eval/rerank/reranker.h"
#include "eval/rerank/similarity.h"

namespace divrec::serving {

// The default candidate count: `divrec eval --candidates` uses the same default, so a serving
// list and an evaluation list agree unless one of them is told otherwise.
inline constexpr int kDefaultCandidates = 200;

struct RecommendSettings {
  int k = 10;                           // list length
  int candidates = kDefaultCandidates;  // N most relevant items handed to the re-ranker
  eval::RerankConfig rerank;            // method + its parameters
  eval::SimilarityKind similarity = eval::SimilarityKind::kCosine;  // for mmr/dpp/xquad/...
  eval::Constraints constraints;
};

// Throws divrec::Error naming the field when a value is out of range (k < 1, candidates < k,
// lambda outside [0, 1], ...).
void validate(const RecommendSettings& s);

// {"k", "candidates", "rerank": {"method", "lambda", "theta", "window", "alpha", "similarity"},
//  "constraints": {"min_categories", "max_per_category", "min_attributes",
//                  "min_attrs_per_item", "attrs_per_item_average", "max_similarity" (null = off),
//                  "min_distinct"}}
nlohmann::json to_json(const RecommendSettings& s);

// Applies the keys present in `j` (an object of the form above; absent keys keep their value)
// on top of s. Unknown keys and wrong JSON types throw divrec::Error naming the key, so a typo
// never silently falls back to a default. `where` prefixes messages ("request", "artifact").
void apply_json(const nlohmann::json& j, RecommendSettings& s, const std::string& where);
// The same for the "rerank" and "constraints" sub-objects alone.
void apply_rerank_json(const nlohmann::json& j, RecommendSettings& s, const std::string& where);
void apply_constraints_json(const nlohmann::json& j, eval::Constraints& c,
                            const std::string& where);

// An error's message without divrec::Error's "file.cpp:123: " and "check failed: cond: "
// prefixes: what clients of the recommend command and the HTTP API are shown.
std::string message_of(const std::exception& e);

}  // namespace divrec::serving
