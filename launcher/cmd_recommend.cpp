// `divrec recommend`: one request from the command line (JSON on stdout), or a batch of JSON
// request lines answered on T threads, output in input order, written atomically. The artifact's
// default settings apply unless the options or a request line say otherwise.
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/threads.h"
#include "launcher/commands.h"
#include "launcher/retrieval_options.h"
#include "launcher/settings_options.h"
#include "serving/recommender.h"
#include "serving/request.h"

namespace divrec::launcher {

namespace {

using nlohmann::json;

std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> split_history(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    auto b = tok.find_first_not_of(" \t");
    auto e = tok.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(tok.substr(b, e - b + 1));
  }
  return out;
}

// Answers the non-empty lines of `in` into `out`, `threads` at a time, in input order.
// Returns the number of lines answered with an error object.
int64_t run_batch(const serving::Recommender& model, const serving::RecommendSettings& base,
                  const serving::RequestLimits& limits, std::istream& in, std::ostream& out,
                  int threads, int64_t total, int64_t* answered) {
  constexpr size_t kChunk = 4096;  // bounds memory for any input size
  std::vector<std::string> lines, results;
  std::vector<int64_t> line_numbers;
  std::atomic<int64_t> errors{0};
  int64_t line_no = 0;
  std::string line;
  core::Progress progress("recommend", total);
  while (in) {
    lines.clear();
    line_numbers.clear();
    while (lines.size() < kChunk && std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
      lines.push_back(line);
      line_numbers.push_back(line_no);
    }
    if (lines.empty()) break;
    results.assign(lines.size(), "");
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next++) < lines.size();) {
        try {
          auto req = serving::parse_request(lines[i], base, limits);
          results[i] = dump(serving::to_json(model.recommend(req)));
        } catch (const std::exception& e) {
          ++errors;
          results[i] = dump(
              json{{"error", fmt::format("line {}: {}", line_numbers[i], serving::message_of(e))}});
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const auto& r : results) out << r << '\n';
    DIVREC_CHECK(out.good(), "recommend: writing the output failed (disk full?)");
    *answered += static_cast<int64_t>(lines.size());
    progress.advance(static_cast<int64_t>(lines.size()));
  }
  progress.finish();
  return errors.load();
}

}  // namespace

int cmd_recommend(const Args& args) {
  std::string model_path, history, input, output, precision = "fp32";
  int threads = 0;
  po::options_description d;
  // clang-format off
  d.add_options()
    ("model", po::value(&model_path)->required(), "serving artifact (divrec export)")
    ("history", po::value(&history), "one request: raw item ids, oldest first, comma-separated")
    ("input", po::value(&input), "batch: JSON request lines ({\"history\": [...], \"k\": 10, ...})")
    ("output", po::value(&output), "batch: JSON response lines, in input order")
    ("threads", po::value(&threads)->default_value(threads), "batch threads (0 = all cores)")
    ("score-precision", po::value(&precision)->default_value(precision), "fp32 | bf16: item matrix of the scoring kernel (as given to divrec eval)");
  // clang-format on
  add_settings_options(d);
  RetrievalArgs ra;
  add_retrieval_options(d, ra, "auto");
  po::variables_map vm;
  if (!parse_options("recommend", args, d, vm)) return 0;
  const eval::RetrievalOptions retrieval = resolve_retrieval(ra);
  const bool batch = vm.count("input") > 0;
  DIVREC_CHECK_HINT(batch != (vm.count("history") > 0), "pass --history IDS or --input FILE",
                    "recommend: exactly one of --history and --input is needed");
  DIVREC_CHECK_HINT(!batch || !output.empty(), "pass --output OUT.jsonl",
                    "recommend: --input needs --output");

  core::configure_threads(1);  // requests are the parallelism; torch runs one thread each
  auto model = serving::Recommender::load(
      model_path, model::parse_score_precision(precision, "--score-precision"), retrieval);
  serving::RecommendSettings base = resolve_settings(vm, model->defaults());
  // The command line is trusted: no server caps beyond what the catalog allows.
  serving::RequestLimits limits;
  limits.max_k = std::numeric_limits<int>::max();
  limits.max_history = std::numeric_limits<int>::max();
  limits.max_candidates = std::numeric_limits<int>::max();

  if (!batch) {
    serving::RecommendRequest req;
    req.history = split_history(history);
    req.settings = base;
    json out = serving::to_json(model->recommend(req));
    std::cout << dump(out, 2) << std::endl;
    return 0;
  }

  std::ifstream in(input);
  DIVREC_CHECK_HINT(in.good(), "pass an existing JSON-lines file",
                    "recommend: cannot open --input '", input, "'");
  const int t = core::resolve_threads(threads);
  int64_t total = 0;  // for the progress line: one cheap pass over the file
  for (std::string line; std::getline(in, line);) {
    total += line.find_first_not_of(" \t\r") != std::string::npos;
  }
  in.clear();
  in.seekg(0);
  const std::string tmp = core::temp_path_for(output);
  int64_t answered = 0, errors = 0;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DIVREC_CHECK_HINT(out.good(), "is the directory writable?", "recommend: cannot create '", tmp,
                      "'");
    errors = run_batch(*model, base, limits, in, out, t, total, &answered);
    out.close();
    DIVREC_CHECK(!out.fail(), "recommend: closing '", tmp, "' failed (disk full?)");
  }
  DIVREC_CHECK(!in.bad(), "recommend: reading '", input, "' failed");
  core::commit_file(tmp, output);
  core::log0("recommend: {} requests answered into '{}' on {} threads, {} with errors", answered,
             output, t, errors);
  if (errors > 0) {
    core::log_error("recommend: {} request lines had errors (see their \"error\" objects in '{}')",
                    errors, output);
    return 1;
  }
  return 0;
}

}  // namespace divrec::launcher
