// Request settings: validation and the JSON form (see settings.h). Every type error names the key
// and the expected type, because these messages go back to HTTP clients verbatim.
#include "serving/settings.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace divrec::serving {

namespace {

using nlohmann::json;

const char* type_name(const json& v) { return v.type_name(); }

int get_int(const json& v, const std::string& key, const std::string& where) {
  DIVREC_CHECK_HINT(v.is_number_integer(), "send an integer", where, ": '", key,
                    "' must be an integer, got ", type_name(v), " ", v.dump());
  // Unsigned values above int64 range are stored as unsigned: compare before converting.
  DIVREC_CHECK_HINT(!v.is_number_unsigned() ||
                        v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max()),
                    "send a smaller integer", where, ": '", key, "' = ", v.dump(),
                    " is out of range");
  int64_t x = v.get<int64_t>();
  DIVREC_CHECK_HINT(x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max(),
                    "send a smaller integer", where, ": '", key, "' = ", x, " is out of range");
  return static_cast<int>(x);
}

double get_number(const json& v, const std::string& key, const std::string& where) {
  DIVREC_CHECK_HINT(v.is_number(), "send a number", where, ": '", key, "' must be a number, got ",
                    type_name(v), " ", v.dump());
  return v.get<double>();
}

bool get_bool(const json& v, const std::string& key, const std::string& where) {
  DIVREC_CHECK_HINT(v.is_boolean(), "send true or false", where, ": '", key,
                    "' must be a boolean, got ", type_name(v), " ", v.dump());
  return v.get<bool>();
}

std::string get_string(const json& v, const std::string& key, const std::string& where) {
  DIVREC_CHECK_HINT(v.is_string(), "send a string", where, ": '", key, "' must be a string, got ",
                    type_name(v), " ", v.dump());
  return v.get<std::string>();
}

void check_object(const json& j, const std::string& what, const std::string& where) {
  DIVREC_CHECK_HINT(j.is_object(), "send a JSON object", where, ": '", what,
                    "' must be a JSON object, got ", type_name(j));
}

// Re-throws a parse error from the eval parsers (which name CLI options) with the JSON key.
template <typename Fn>
auto named(const std::string& key, const std::string& where, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    DIVREC_FAIL(where, ": '", key, "': ", message_of(e));
  }
}

}  // namespace

std::string message_of(const std::exception& e) {
  std::string m = e.what();
  // "name.ext:123: " -> drop (the location is for developers' logs, not for clients).
  auto colon = m.find(':');
  if (colon != std::string::npos && colon > 0 && m.find(' ') > colon) {
    size_t p = colon + 1;
    while (p < m.size() && std::isdigit(static_cast<unsigned char>(m[p]))) ++p;
    if (p > colon + 1 && m.compare(p, 2, ": ") == 0) m.erase(0, p + 2);
  }
  // "check failed: <condition>: message" -> "message".
  const std::string kCheck = "check failed: ";
  if (m.compare(0, kCheck.size(), kCheck) == 0) {
    auto sep = m.find(": ", kCheck.size());
    if (sep != std::string::npos && sep + 2 < m.size()) m.erase(0, sep + 2);
  }
  return m;
}

void validate(const RecommendSettings& s) {
  DIVREC_CHECK_HINT(s.k >= 1, "ask for at least one item", "k must be >= 1, got ", s.k);
  DIVREC_CHECK_HINT(s.candidates >= s.k, "raise candidates or lower k", "candidates (",
                    s.candidates, ") must be >= k (", s.k, ")");
  eval::validate(s.rerank);
  eval::validate(s.constraints);
  DIVREC_CHECK(s.similarity != eval::SimilarityKind::kPrecomputed,
               "similarity must be cosine or jaccard");
}

json to_json(const RecommendSettings& s) {
  const auto& c = s.constraints;
  json cj = {{"min_categories", c.min_categories},
             {"max_per_category", c.max_per_category},
             {"min_attributes", c.min_attributes},
             {"min_attrs_per_item", c.min_attrs_per_item},
             {"attrs_per_item_average", c.attrs_per_item_average},
             {"max_similarity", nullptr},
             {"min_distinct", c.min_distinct}};
  if (std::isfinite(c.max_similarity)) cj["max_similarity"] = c.max_similarity;
  return {{"k", s.k},
          {"candidates", s.candidates},
          {"rerank",
           {{"method", eval::rerank_method_name(s.rerank.method)},
            {"lambda", s.rerank.lambda},
            {"theta", s.rerank.theta},
            {"window", s.rerank.window},
            {"alpha", s.rerank.alpha},
            {"similarity", eval::similarity_kind_name(s.similarity)}}},
          {"constraints", cj}};
}

void apply_rerank_json(const json& j, RecommendSettings& s, const std::string& where) {
  check_object(j, "rerank", where);
  for (const auto& [key, v] : j.items()) {
    const std::string k = "rerank." + key;
    if (key == "method") {
      auto name = get_string(v, k, where);
      s.rerank.method = named(k, where, [&] { return eval::parse_rerank_method(name); });
    } else if (key == "lambda") {
      s.rerank.lambda = get_number(v, k, where);
    } else if (key == "theta") {
      s.rerank.theta = get_number(v, k, where);
    } else if (key == "window") {
      s.rerank.window = get_int(v, k, where);
    } else if (key == "alpha") {
      s.rerank.alpha = get_number(v, k, where);
    } else if (key == "similarity") {
      auto name = get_string(v, k, where);
      s.similarity = named(k, where, [&] { return eval::parse_similarity_kind(name); });
    } else {
      DIVREC_FAIL(where, ": unknown key '", k,
                  "' (valid: method, lambda, theta, window, alpha, similarity)");
    }
  }
}

void apply_constraints_json(const json& j, eval::Constraints& c, const std::string& where) {
  check_object(j, "constraints", where);
  for (const auto& [key, v] : j.items()) {
    const std::string k = "constraints." + key;
    if (key == "min_categories") {
      c.min_categories = get_int(v, k, where);
    } else if (key == "max_per_category") {
      c.max_per_category = get_int(v, k, where);
    } else if (key == "min_attributes") {
      c.min_attributes = get_int(v, k, where);
    } else if (key == "min_attrs_per_item") {
      c.min_attrs_per_item = get_int(v, k, where);
    } else if (key == "attrs_per_item_average") {
      c.attrs_per_item_average = get_bool(v, k, where);
    } else if (key == "max_similarity") {
      c.max_similarity = v.is_null() ? std::numeric_limits<float>::infinity()
                                     : static_cast<float>(get_number(v, k, where));
    } else if (key == "min_distinct") {
      c.min_distinct = get_int(v, k, where);
    } else {
      DIVREC_FAIL(where, ": unknown key '", k,
                  "' (valid: min_categories, max_per_category, min_attributes, "
                  "min_attrs_per_item, attrs_per_item_average, max_similarity, min_distinct)");
    }
  }
}

void apply_json(const json& j, RecommendSettings& s, const std::string& where) {
  check_object(j, "settings", where);
  for (const auto& [key, v] : j.items()) {
    if (key == "k") {
      s.k = get_int(v, key, where);
    } else if (key == "candidates") {
      s.candidates = get_int(v, key, where);
    } else if (key == "rerank") {
      apply_rerank_json(v, s, where);
    } else if (key == "constraints") {
      apply_constraints_json(v, s.constraints, where);
    } else {
      DIVREC_FAIL(where, ": unknown key '", key, "' (valid: k, candidates, rerank, constraints)");
    }
  }
}

}  // namespace divrec::serving
