// The JSON request/response of one recommendation, shared by `divrec recommend` (request lines)
// and `POST /v1/recommend`: parsing with per-field errors and server limits, and the response
// document. Format: docs/serving.md ("Requests and responses").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "serving/request_types.h"
#include "serving/settings.h"

namespace divrec::serving {

// Caps a server enforces (requests above them are rejected with 400, never truncated).
struct RequestLimits {
  int max_k = 100;            // --max-k
  int max_history = 200;      // --max-history: history entries, known or not
  int max_candidates = 1000;  // --max-candidates: caps a request's own "candidates"
};

// {"history": ["raw id" | integer, ...], "k": .., "candidates": .., "rerank": {..},
//  "constraints": {..}}: keys other than history override `defaults`. Throws divrec::Error
// naming the offending field (wrong type, unknown key, value out of range, above a limit).
RecommendRequest parse_request(const nlohmann::json& j, const RecommendSettings& defaults,
                               const RequestLimits& limits);
// Parses text first (malformed JSON -> divrec::Error with the parser's position).
RecommendRequest parse_request(const std::string& body, const RecommendSettings& defaults,
                               const RequestLimits& limits);

// {"items": [{"item", "score", "category", "reason"}...], "unknown_items": [...],
//  "history_used", "fallback": "popularity" | null, "feasible", "violated": [...]}
nlohmann::json to_json(const Recommendation& r);

}  // namespace divrec::serving
