// Shared by the libFuzzer targets: a private scratch directory (the parsers under test read
// files), splitting one input into several files, and what counts as a finding: any crash,
// sanitizer report or exception other than divrec::Error (bad input must get a clear error).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/log.h"

namespace divrec::fuzz {

// Separates the files of a multi-file input (e.g. NAME.txt and NAME_item2attributes.json).
inline constexpr std::string_view kPartSeparator = "\n--8<--\n";

// /dev/shm/divrec-fuzz-<pid> (tmpfs: no disk traffic per execution), created on first use and
// removed at exit; logging is silenced once.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    core::set_log_quiet(true);
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string d = base + "/divrec-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    static struct Cleanup {
      std::string d;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(d, ec);
      }
    } cleanup{d};
    return d;
  }();
  return dir;
}

inline void write_path(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// Writes scratch_dir()/name; returns its path.
inline std::string write_file(const std::string& name, std::string_view bytes) {
  std::string path = scratch_dir() + "/" + name;
  write_path(path, bytes);
  return path;
}

// The input split on kPartSeparator into at most max_parts parts (the last keeps the rest).
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size,
                                                 size_t max_parts) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t at = s.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(0, at));
    s.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(s);
  return parts;
}

// Runs fn; a divrec::Error is the expected outcome for bad input. Anything else escapes and
// libFuzzer reports it (uncaught exception -> abort) as a finding.
template <typename Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const divrec::Error&) {
  }
}

}  // namespace divrec::fuzz
