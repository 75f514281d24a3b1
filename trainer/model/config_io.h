// ModelConfig <-> "key = value" text, so a checkpoint's stored config (divrec train's resolved
// config_ini) rebuilds the exact model for evaluation, export and serving. Keys are named like
// divrec train's long options (dim, layers, heads, max-len, ffn-dim, use-category, ...).
#pragma once

#include <map>
#include <string>

#include "trainer/model/config.h"

namespace divrec::model {

// Every ModelConfig field as sorted "key = value" lines (catalog sizes included).
std::string to_ini(const ModelConfig& config);

// Reads the model keys of INI text; other keys, "#"/";" comments, blank and "[section]" lines
// are ignored and absent keys keep base's value. A bad value throws naming the key and value.
ModelConfig from_ini(const std::string& text, ModelConfig base = {});

// All "key = value" pairs of INI text (last one wins; section names are ignored).
std::map<std::string, std::string> parse_ini(const std::string& text);

}  // namespace divrec::model
