// Helpers shared by the data_shards tests: scratch directories, writing small text inputs, file
// bytes, and a quiet logger.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"

namespace divrec::testing {

// Removes the scratch directories when the test binary exits.
struct ScratchCleaner {
  std::vector<std::string> dirs;
  ~ScratchCleaner() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};

// A fresh, empty directory under the system temp dir, unique per process and name.
inline std::string scratch_dir(const std::string& name) {
  static ScratchCleaner cleaner;
  divrec::core::set_log_quiet(true);
  auto p = std::filesystem::temp_directory_path() /
           ("divrec_test_data_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  cleaner.dirs.push_back(p.string());
  return p.string();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The message of the divrec::Error `fn` throws ("" and a test failure when none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const divrec::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a divrec::Error";
  return "";
}

// ../shared/data (or $DIVREC_SHARED_DATA); "" when absent.
inline std::string shared_data_dir() {
  const char* env = std::getenv("DIVREC_SHARED_DATA");
  std::string d = env ? env : "../shared/data";
  return std::filesystem::is_directory(d) ? d : "";
}

}  // namespace divrec::testing
