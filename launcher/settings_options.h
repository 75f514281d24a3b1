// The request-settings options shared by `divrec export` (the artifact's defaults) and
// `divrec recommend` (overrides of those defaults): --k, --candidates, --rerank and its
// parameters, --similarity, and the hard constraints. Only options actually given count, so
// `recommend` keeps the artifact's defaults for everything else.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "launcher/cli.h"
#include "serving/settings.h"

namespace divrec::launcher {

// Adds the options (no default values: absent means "keep the base settings").
void add_settings_options(po::options_description& d);

// The given options as a settings JSON object ({"k", "rerank": {...}, "constraints": {...}}),
// ready for serving::apply_json; empty object when none was given.
nlohmann::json settings_overrides(const po::variables_map& vm);

// base + the given options, validated; errors name the option.
serving::RecommendSettings resolve_settings(const po::variables_map& vm,
                                            serving::RecommendSettings base);

}  // namespace divrec::launcher
