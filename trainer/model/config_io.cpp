// ModelConfig as INI text and back (see config_io.h).
#include "trainer/model/config_io.h"

#include <fmt/format.h>

#include <sstream>

#include "core/check.h"

namespace divrec::model {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

int64_t to_int(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    long long x = std::stoll(v, &pos);
    if (pos == v.size()) return x;
  } catch (...) {
  }
  DIVREC_FAIL("model config: '", key, " = ", v, "' is not an integer");
}

double to_double(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    double x = std::stod(v, &pos);
    if (pos == v.size()) return x;
  } catch (...) {
  }
  DIVREC_FAIL("model config: '", key, " = ", v, "' is not a number");
}

bool to_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  DIVREC_FAIL("model config: '", key, " = ", v, "' is not a boolean (true/false)");
}

}  // namespace

std::map<std::string, std::string> parse_ini(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';' || t[0] == '[') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    kv[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  return kv;
}

std::string to_ini(const ModelConfig& c) {
  // Sorted by key, like format_config_ini; doubles in shortest round-trip form.
  std::string s;
  s += fmt::format("attn-dropout = {}\n", c.attn_dropout);
  s += fmt::format("content-dim = {}\n", c.content_dim);
  if (c.content_missing) s += "content-missing = true\n";  // absent in older configs = false
  s += fmt::format("dim = {}\n", c.dim);
  s += fmt::format("dropout = {}\n", c.dropout);
  s += fmt::format("ffn-dim = {}\n", c.ffn_dim);
  s += fmt::format("heads = {}\n", c.heads);
  s += fmt::format("init-std = {}\n", c.init_std);
  // Absent in older configs = 0 / false.
  if (c.item_id_dropout > 0) s += fmt::format("item-id-dropout = {}\n", c.item_id_dropout);
  s += fmt::format("item-norm = {}\n", c.item_norm);
  s += fmt::format("layer-norm-eps = {}\n", c.layer_norm_eps);
  s += fmt::format("layers = {}\n", c.layers);
  s += fmt::format("max-len = {}\n", c.max_len);
  s += fmt::format("num-attributes = {}\n", c.num_attributes);
  s += fmt::format("num-categories = {}\n", c.num_categories);
  s += fmt::format("num-items = {}\n", c.num_items);
  if (c.num_text_tokens > 0) s += fmt::format("num-text-tokens = {}\n", c.num_text_tokens);
  s += fmt::format("use-attributes = {}\n", c.use_attributes);
  s += fmt::format("use-category = {}\n", c.use_category);
  s += fmt::format("use-content = {}\n", c.use_content);
  s += fmt::format("use-item-id = {}\n", c.use_item_id);
  if (!c.use_text) s += "use-text = false\n";  // absent in older configs = true
  if (c.zero_cold_ids) s += "zero-cold-ids = true\n";  // absent in older configs = false
  return s;
}

ModelConfig from_ini(const std::string& text, ModelConfig c) {
  for (const auto& [k, v] : parse_ini(text)) {
    if (k == "num-items")
      c.num_items = to_int(k, v);
    else if (k == "num-categories")
      c.num_categories = to_int(k, v);
    else if (k == "num-attributes")
      c.num_attributes = to_int(k, v);
    else if (k == "content-dim")
      c.content_dim = to_int(k, v);
    else if (k == "content-missing")
      c.content_missing = to_bool(k, v);
    else if (k == "dim")
      c.dim = to_int(k, v);
    else if (k == "layers")
      c.layers = to_int(k, v);
    else if (k == "heads")
      c.heads = to_int(k, v);
    else if (k == "max-len")
      c.max_len = to_int(k, v);
    else if (k == "ffn-dim")
      c.ffn_dim = to_int(k, v);
    else if (k == "dropout")
      c.dropout = to_double(k, v);
    else if (k == "attn-dropout")
      c.attn_dropout = to_double(k, v);
    else if (k == "layer-norm-eps")
      c.layer_norm_eps = to_double(k, v);
    else if (k == "init-std")
      c.init_std = to_double(k, v);
    else if (k == "use-item-id")
      c.use_item_id = to_bool(k, v);
    else if (k == "use-category")
      c.use_category = to_bool(k, v);
    else if (k == "use-attributes")
      c.use_attributes = to_bool(k, v);
    else if (k == "use-content")
      c.use_content = to_bool(k, v);
    else if (k == "use-text")
      c.use_text = to_bool(k, v);
    else if (k == "num-text-tokens")
      c.num_text_tokens = to_int(k, v);
    else if (k == "item-norm")
      c.item_norm = to_bool(k, v);
    else if (k == "item-id-dropout")
      c.item_id_dropout = to_double(k, v);
    else if (k == "zero-cold-ids")
      c.zero_cold_ids = to_bool(k, v);
  }
  return c;
}

}  // namespace divrec::model
