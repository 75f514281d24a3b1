// Option parsing, INI config files, resolved-config printing (see cli.h).
#include "launcher/cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "core/check.h"

namespace divrec::launcher {

namespace {
std::string g_command_line;

std::string value_to_string(const po::variable_value& v) {
  const auto& a = v.value();
  if (auto p = boost::any_cast<std::string>(&a)) return *p;
  if (auto p = boost::any_cast<int>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<int64_t>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<uint64_t>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<double>(&a)) return fmt::format("{}", *p);
  if (auto p = boost::any_cast<float>(&a)) return fmt::format("{}", *p);
  if (auto p = boost::any_cast<bool>(&a)) return *p ? "true" : "false";
  if (auto p = boost::any_cast<std::vector<std::string>>(&a)) {
    std::string s;
    for (const auto& x : *p) s += (s.empty() ? "" : ",") + x;
    return s;
  }
  return "?";
}
// Boost.Program_options builds its error messages by replacing "%canonical_option%",
// "%value%", ... with the offending text in a loop; text that itself holds such a token never
// terminates (found by fuzz/fuzz_ini). Such text is refused before Boost sees it.
void check_no_boost_placeholder(const std::string& text, const std::string& where) {
  for (size_t a = text.find('%'); a != std::string::npos; a = text.find('%', a + 1)) {
    size_t b = a + 1;
    while (b < text.size() &&
           (std::islower(static_cast<unsigned char>(text[b])) || text[b] == '_')) {
      ++b;
    }
    DIVREC_CHECK_HINT(b == a + 1 || b >= text.size() || text[b] != '%',
                      "option names and values cannot contain %name% sequences", where,
                      ": unsupported text '", text.substr(a, b - a + 1), "' in '", text, "'");
  }
}
}  // namespace

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) g_command_line += ' ';
    g_command_line += argv[i];
  }
}
const std::string& command_line() { return g_command_line; }

bool parse_options(const std::string& command, const Args& args, po::options_description& desc,
                   po::variables_map& vm, const po::positional_options_description* positional) {
  po::options_description all(fmt::format("divrec {} options", command));
  all.add_options()("help,h", "print this help")(
      "config", po::value<std::string>(), "INI file with any of these options (key = value)");
  all.add(desc);
  for (const auto& a : args) check_no_boost_placeholder(a, "divrec " + command);
  try {
    auto parser = po::command_line_parser(args).options(all);
    if (positional) parser.positional(*positional);
    // A later occurrence of an option overrides an earlier one (as in most CLIs), so wrapper
    // scripts can append "$@" after their defaults.
    auto parsed = parser.run();
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < parsed.options.size(); ++i) {
      if (parsed.options[i].position_key < 0) last[parsed.options[i].string_key] = i;
    }
    std::vector<po::option> kept;
    for (size_t i = 0; i < parsed.options.size(); ++i) {
      const auto& o = parsed.options[i];
      if (o.position_key >= 0 || last[o.string_key] == i) kept.push_back(o);
    }
    parsed.options = std::move(kept);
    po::store(parsed, vm);
    if (vm.count("help")) {
      std::cout << "usage: divrec " << command << " [options]\n" << all << "\n";
      return false;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      DIVREC_CHECK_HINT(in.good(), "pass an existing INI file", "--config: cannot open '", path,
                        "'");
      // Section names are accepted and ignored, so "[train]\nlr = 1e-3" and "lr = 1e-3" agree.
      std::stringstream flat;
      std::string line;
      for (int line_no = 1; std::getline(in, line); ++line_no) {
        check_no_boost_placeholder(line, path + ":" + std::to_string(line_no));
        auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line[first] == '[') continue;
        flat << line << "\n";
      }
      po::store(po::parse_config_file(flat, desc, /*allow_unregistered=*/false), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    DIVREC_FAIL("divrec ", command, ": ", e.what(), " (see divrec ", command, " --help)");
  }
  return true;
}

std::string format_config_ini(const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (const auto& [k, v] : vm) {
    if (k == "help" || k == "config" || v.empty()) continue;
    kv.emplace_back(k, value_to_string(v));
  }
  std::sort(kv.begin(), kv.end());
  std::string s;
  for (const auto& [k, v] : kv) s += k + " = " + v + "\n";
  return s;
}

std::string format_config_table(const std::string& title, const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> kv;
  size_t wk = title.size(), wv = 0;
  for (const auto& [k, v] : vm) {
    if (k == "help" || v.empty()) continue;
    kv.emplace_back(k, value_to_string(v));
    wk = std::max(wk, k.size());
    wv = std::max(wv, kv.back().second.size());
  }
  std::sort(kv.begin(), kv.end());
  wv = std::min<size_t>(wv, 60);
  std::string rule = "+" + std::string(wk + 2, '-') + "+" + std::string(wv + 2, '-') + "+\n";
  std::string s = rule + fmt::format("| {:<{}} | {:<{}} |\n", title, wk, "", wv) + rule;
  for (auto& [k, v] : kv) {
    if (v.size() > wv) v = v.substr(0, wv - 3) + "...";
    s += fmt::format("| {:<{}} | {:<{}} |\n", k, wk, v, wv);
  }
  return s + rule;
}

std::vector<int> parse_int_list(const std::string& option, const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    try {
      size_t pos = 0;
      int v = std::stoi(tok, &pos);
      DIVREC_CHECK(pos == tok.size(), "");
      out.push_back(v);
    } catch (...) {
      DIVREC_FAIL("--", option, ": '", tok, "' is not an integer (expected e.g. 5,10,20)");
    }
  }
  DIVREC_CHECK(!out.empty(), "--", option, " is empty");
  return out;
}

std::vector<double> parse_double_list(const std::string& option, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    try {
      size_t pos = 0;
      double v = std::stod(tok, &pos);
      DIVREC_CHECK(pos == tok.size(), "");
      out.push_back(v);
    } catch (...) {
      DIVREC_FAIL("--", option, ": '", tok, "' is not a number");
    }
  }
  DIVREC_CHECK(!out.empty(), "--", option, " is empty");
  return out;
}

}  // namespace divrec::launcher
