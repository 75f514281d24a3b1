// Request-settings options -> settings JSON (see settings_options.h).
#include "launcher/settings_options.h"

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace divrec::launcher {

namespace {

struct Opt {
  const char* option;  // long option
  const char* group;   // "" (top level), "rerank" or "constraints"
  const char* key;     // JSON key
  char type;           // i = int, d = double, s = string, b = switch
  const char* help;
};

const Opt kOpts[] = {
    {"k", "", "k", 'i', "list length (default 10)"},
    {"candidates", "", "candidates", 'i',
     "most relevant items handed to the re-ranker (default 200, as divrec eval)"},
    {"rerank", "rerank", "method", 's', "none | mmr | dpp | xquad | calibrated (default none)"},
    {"lambda", "rerank", "lambda", 'd', "mmr/xquad/calibrated trade-off in [0, 1] (default 0.5)"},
    {"theta", "rerank", "theta", 'd', "dpp quality exponent (default 1)"},
    {"window", "rerank", "window", 'i', "dpp sliding window (default 0 = off)"},
    {"alpha", "rerank", "alpha", 'd', "calibrated smoothing (default 0.01)"},
    {"similarity", "rerank", "similarity", 's', "cosine (item vectors) | jaccard (default cosine)"},
    {"min-categories", "constraints", "min_categories", 'i', ">= m distinct categories (0 = off)"},
    {"max-per-category", "constraints", "max_per_category", 'i',
     "at most c items per category (0 = off)"},
    {"min-attributes", "constraints", "min_attributes", 'i',
     ">= a distinct attribute values (0 = off)"},
    {"min-attrs-per-item", "constraints", "min_attrs_per_item", 'i',
     "every item carries >= m attributes (0 = off)"},
    {"attrs-per-item-average", "constraints", "attrs_per_item_average", 'b',
     "--min-attrs-per-item applies to the list's mean"},
    {"max-similarity", "constraints", "max_similarity", 'd',
     "no two listed items more similar than tau (default off)"},
    {"min-distinct", "constraints", "min_distinct", 'i', ">= d distinct items (0 = off)"},
};

}  // namespace

void add_settings_options(po::options_description& d) {
  for (const auto& o : kOpts) {
    switch (o.type) {
      case 'i':
        d.add_options()(o.option, po::value<int>(), o.help);
        break;
      case 'd':
        d.add_options()(o.option, po::value<double>(), o.help);
        break;
      case 's':
        d.add_options()(o.option, po::value<std::string>(), o.help);
        break;
      case 'b':
        d.add_options()(o.option, po::bool_switch(), o.help);
        break;
    }
  }
}

nlohmann::json settings_overrides(const po::variables_map& vm) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& o : kOpts) {
    if (!vm.count(o.option)) continue;
    const auto& v = vm[o.option];
    nlohmann::json value;
    switch (o.type) {
      case 'i':
        value = v.as<int>();
        break;
      case 'd':
        value = v.as<double>();
        break;
      case 's':
        value = v.as<std::string>();
        break;
      case 'b':
        if (!v.as<bool>()) continue;  // a switch that was not given
        value = true;
        break;
    }
    if (*o.group) {
      j[o.group][o.key] = value;
    } else {
      j[o.key] = value;
    }
  }
  return j;
}

serving::RecommendSettings resolve_settings(const po::variables_map& vm,
                                            serving::RecommendSettings base) {
  serving::apply_json(settings_overrides(vm), base, "options");
  try {
    serving::validate(base);
  } catch (const Error& e) {
    DIVREC_FAIL("options: ", serving::message_of(e));
  }
  return base;
}

}  // namespace divrec::launcher
