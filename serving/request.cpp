// Request parsing and the response document (see request.h).
#include "serving/request.h"

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace divrec::serving {

using nlohmann::json;

RecommendRequest parse_request(const json& j, const RecommendSettings& defaults,
                               const RequestLimits& limits) {
  DIVREC_CHECK_HINT(j.is_object(), "send {\"history\": [...], \"k\": 10}",
                    "request must be a JSON object, got ", j.type_name());
  RecommendRequest req;
  req.settings = defaults;
  json rest = json::object();
  bool has_history = false;
  for (const auto& [key, v] : j.items()) {
    if (key != "history") {
      rest[key] = v;
      continue;
    }
    has_history = true;
    DIVREC_CHECK_HINT(v.is_array(), "send the history as an array of item ids",
                      "request: 'history' must be an array, got ", v.type_name());
    DIVREC_CHECK_HINT(v.size() <= static_cast<size_t>(limits.max_history),
                      "send at most the most recent items", "request: 'history' has ", v.size(),
                      " items; this server accepts at most ", limits.max_history,
                      " (--max-history)");
    req.history.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const auto& x = v[i];
      if (x.is_string()) {
        req.history.push_back(x.get<std::string>());
      } else if (x.is_number_integer()) {
        req.history.push_back(x.dump());  // raw ids are strings; 123 means "123"
      } else {
        DIVREC_FAIL("request: history[", i, "] must be an item id (string or integer), got ",
                    x.type_name(), " ", x.dump());
      }
    }
  }
  DIVREC_CHECK_HINT(has_history, "send {\"history\": [] } for popularity-based recommendations",
                    "request: 'history' is missing");
  apply_json(rest, req.settings, "request");
  auto& s = req.settings;
  DIVREC_CHECK_HINT(s.k >= 1 && s.k <= limits.max_k, "ask for fewer items", "request: 'k' = ", s.k,
                    " must be in [1, ", limits.max_k, "] (--max-k)");
  // The cap bounds what clients ask for; the artifact's default (the operator's choice) is trusted.
  DIVREC_CHECK_HINT(!j.contains("candidates") || s.candidates <= limits.max_candidates,
                    "ask for fewer candidates", "request: 'candidates' = ", s.candidates,
                    " exceeds this server's limit of ", limits.max_candidates,
                    " (--max-candidates)");
  if (s.candidates < s.k) {
    // A request may raise k above the default candidate count without naming candidates.
    DIVREC_CHECK_HINT(!j.contains("candidates"), "raise candidates or lower k",
                      "request: 'candidates' (", s.candidates, ") must be >= k (", s.k, ")");
    s.candidates = s.k;
  }
  try {
    validate(s);
  } catch (const Error& e) {
    DIVREC_FAIL("request: ", message_of(e));
  }
  return req;
}

RecommendRequest parse_request(const std::string& body, const RecommendSettings& defaults,
                               const RequestLimits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for number overflow
    DIVREC_FAIL("request body is not valid JSON: ", e.what());
  }
  return parse_request(j, defaults, limits);
}

json to_json(const Recommendation& r) {
  json items = json::array();
  for (const auto& it : r.items) {
    items.push_back({{"item", it.item},
                     {"score", it.score},
                     {"category", it.category >= 0 ? json(it.category_name) : json(nullptr)},
                     {"reason", eval::reason_name(it.reason)}});
  }
  return {{"items", std::move(items)},
          {"unknown_items", r.unknown},
          {"history_used", r.history_used},
          {"fallback", r.popularity_fallback ? json("popularity") : json(nullptr)},
          {"feasible", r.feasible},
          {"violated", r.violated}};
}

}  // namespace divrec::serving
