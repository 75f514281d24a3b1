// Sweep settings, the trade-off CSV and the plot (see sweep.h).
#include "eval/sweep.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"

extern char** environ;

namespace divrec::eval {

namespace fs = std::filesystem;

namespace {

constexpr double kMaxTheta = 40.0;  // validate(RerankConfig)'s upper bound

double parse_number(const std::string& tok) {
  try {
    size_t pos = 0;
    double v = std::stod(tok, &pos);
    if (pos == tok.size() && std::isfinite(v)) return v;
  } catch (...) {
  }
  DIVREC_FAIL("--sweep: '", tok, "' is not a number (expected e.g. lambda=0,0.1,...,1)");
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// 12 significant digits: mapped parameters read 0.75, not 0.7499999999999999.
double round12(double x) { return std::stod(fmt::format("{:.12g}", x)); }

bool method_has(RerankMethod m, const std::string& param) {
  if (param == "lambda") {
    return m == RerankMethod::kMmr || m == RerankMethod::kXquad || m == RerankMethod::kCalibrated;
  }
  if (param == "theta" || param == "window") return m == RerankMethod::kDpp;
  if (param == "alpha") return m == RerankMethod::kCalibrated;
  return false;
}

// Runs argv, waiting for it; returns the exit status (127 when it could not start).
int run_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string RerankSetting::describe() const {
  switch (rerank.method) {
    case RerankMethod::kNone:
      return "none";
    case RerankMethod::kMmr:
      return fmt::format("mmr lambda={}", rerank.lambda);
    case RerankMethod::kDpp:
      return fmt::format("dpp theta={} window={}", rerank.theta, rerank.window);
    case RerankMethod::kXquad:
      return fmt::format("xquad lambda={}", rerank.lambda);
    case RerankMethod::kCalibrated:
      return fmt::format("calibrated lambda={} alpha={}", rerank.lambda, rerank.alpha);
  }
  return "?";
}

std::vector<double> parse_sweep_values(const std::string& text) {
  std::vector<std::string> toks;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) toks.push_back(trim(tok));
  std::vector<double> out;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i] != "...") {
      out.push_back(parse_number(toks[i]));
      continue;
    }
    DIVREC_CHECK_HINT(out.size() >= 2 && i + 1 < toks.size() && toks[i + 1] != "...",
                      "write e.g. lambda=0,0.1,...,1", "--sweep '", text,
                      "': '...' needs two values before it and one after it");
    double a = out[out.size() - 2], b = out.back(), end = parse_number(toks[i + 1]);
    double step = b - a;
    DIVREC_CHECK(step != 0.0 && (end - b) / step >= 0.0, "--sweep '", text, "': the run ", a, ",",
                 b, ",...,", end, " does not reach ", end);
    // Values as a + j*step (not repeated addition) so 0,0.1,...,1 gives exactly 0.3, not
    // 0.30000000000000004; rounded to 12 digits for the same reason.
    const auto count = static_cast<int64_t>(std::floor((end - a) / step + 1e-9));
    DIVREC_CHECK(count <= 10000, "--sweep '", text, "' expands to more than 10000 values");
    for (int64_t j = 2; j <= count; ++j) {
      out.push_back(round12(a + static_cast<double>(j) * step));
    }
    if (std::fabs(out.back() - end) > 1e-9 * std::max(1.0, std::fabs(end))) out.push_back(end);
    ++i;  // the end value was consumed
  }
  DIVREC_CHECK(!out.empty(), "--sweep '", text, "' has no values");
  return out;
}

std::vector<RerankSetting> make_settings(const std::string& sweep,
                                         const std::vector<std::string>& methods,
                                         const RerankConfig& base) {
  if (sweep.empty()) {
    DIVREC_CHECK_HINT(methods.empty(), "add --sweep PARAM=VALUES", "--sweep-methods needs --sweep");
    return {RerankSetting{base, "", 0.0}};
  }
  auto eq = sweep.find('=');
  DIVREC_CHECK_HINT(eq != std::string::npos, "write e.g. --sweep lambda=0,0.25,0.5,0.75,1",
                    "--sweep '", sweep, "' has no '='");
  std::string param = trim(sweep.substr(0, eq));
  DIVREC_CHECK_HINT(param == "lambda" || param == "theta" || param == "window" || param == "alpha",
                    "sweep lambda, theta, window or alpha", "--sweep: unknown parameter '", param,
                    "'");
  auto values = parse_sweep_values(sweep.substr(eq + 1));

  std::vector<RerankMethod> ms;
  for (const auto& name : methods) ms.push_back(parse_rerank_method(trim(name)));
  if (ms.empty()) ms.push_back(base.method);
  std::set<RerankMethod> seen;
  std::vector<RerankSetting> out;
  for (RerankMethod m : ms) {
    DIVREC_CHECK(seen.insert(m).second, "--sweep-methods lists '", rerank_method_name(m),
                 "' twice");
    const bool mapped = (param == "lambda" && m == RerankMethod::kDpp) ||
                        (param == "theta" && method_has(m, "lambda"));
    DIVREC_CHECK_HINT(method_has(m, param) || mapped,
                      "sweep lambda or theta to compare methods, window for dpp, alpha for "
                      "calibrated",
                      "--sweep ", param, ": method '", rerank_method_name(m), "' has no ", param);
    for (double v : values) {
      RerankSetting s{base, param, v};
      s.rerank.method = m;
      if (param == "lambda" && m == RerankMethod::kDpp) {
        DIVREC_CHECK(v >= 0.0 && v <= 1.0, "--sweep lambda: ", v, " is outside [0, 1]");
        s.rerank.theta = v > 0.0 ? std::min(kMaxTheta, round12((1.0 - v) / (2.0 * v))) : kMaxTheta;
      } else if (param == "theta" && m != RerankMethod::kDpp) {
        DIVREC_CHECK(v >= 0.0, "--sweep theta: ", v, " is negative");
        const double diversity = 1.0 / (1.0 + 2.0 * v);
        s.rerank.lambda = round12(m == RerankMethod::kMmr ? 1.0 - diversity : diversity);
      } else if (param == "lambda") {
        s.rerank.lambda = v;
      } else if (param == "theta") {
        s.rerank.theta = v;
      } else if (param == "window") {
        DIVREC_CHECK(v >= 0.0 && v == std::floor(v), "--sweep window: ", v,
                     " is not a non-negative integer");
        s.rerank.window = static_cast<int>(v);
      } else {
        s.rerank.alpha = v;
      }
      validate(s.rerank);
      out.push_back(s);
    }
  }
  return out;
}

void write_sweep_csv(const std::string& path, const std::vector<RerankSetting>& settings,
                     const std::vector<std::map<std::string, double>>& rows) {
  DIVREC_CHECK(settings.size() == rows.size(), "sweep CSV: ", settings.size(), " settings but ",
               rows.size(), " metric rows");
  std::set<std::string> names;
  for (const auto& r : rows) {
    for (const auto& kv : r) names.insert(kv.first);
  }
  std::string s = "method,param,value,setting";
  for (const auto& n : names) s += "," + csv_field(n);
  s += "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    s += fmt::format("{},{},{},{}", rerank_method_name(settings[i].rerank.method),
                     settings[i].param, settings[i].value, csv_field(settings[i].describe()));
    for (const auto& n : names) {
      auto it = rows[i].find(n);
      s += it == rows[i].end() ? std::string(",") : fmt::format(",{:.17g}", it->second);
    }
    s += "\n";
  }
  core::write_file_atomic(path, s);
}

std::string find_plot_script() {
  if (const char* env = std::getenv("DIVREC_PLOT_SCRIPT")) {
    return fs::exists(env) ? std::string(env) : std::string();
  }
  std::vector<fs::path> starts;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  starts.push_back(fs::current_path(ec));
  for (auto dir : starts) {
    for (int up = 0; up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
      auto p = dir / "tools" / "plot_sweep.py";
      if (fs::exists(p, ec)) return p.string();
      if (dir == dir.root_path()) break;
    }
  }
  return "";
}

bool plot_sweep(const std::string& csv, const std::string& png, int k) {
  const std::string python = "/usr/bin/python3";
  std::string script = find_plot_script();
  if (script.empty()) {
    core::log0(
        "WARNING: tools/plot_sweep.py not found (set DIVREC_PLOT_SCRIPT); no plot, the "
        "sweep results are in {}",
        csv);
    return false;
  }
  if (access(python.c_str(), X_OK) != 0) {
    core::log0("WARNING: {} not found; no plot, the sweep results are in {}", python, csv);
    return false;
  }
  if (run_process({python, "-c", "import matplotlib"}) != 0) {
    core::log0(
        "WARNING: matplotlib is not importable by {} (Debian: apt-get install "
        "python3-matplotlib); no plot, the sweep results are in {}",
        python, csv);
    return false;
  }
  int rc = run_process({python, script, csv, png, "--k", std::to_string(k)});
  if (rc != 0) {
    core::log0("WARNING: {} {} failed with exit status {}; no plot, the sweep results are in {}",
               python, script, rc, csv);
    return false;
  }
  return true;
}

}  // namespace divrec::eval
