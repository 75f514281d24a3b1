// Reading delimited text inputs for the converters: a buffered line reader that knows the file
// and line number (so every parse error says "file:line: what: 'text'"), field splitting, and
// number parsing. Logs progress by bytes for big files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"

namespace divrec::data {

class LineReader {
 public:
  // `what` names the progress line ("" = no progress output).
  explicit LineReader(std::string path, const std::string& what = "");
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // Next line without its "\n" / "\r\n"; false at end of file. The view is valid until the next
  // call.
  bool next(std::string_view* line);
  int64_t line_no() const { return line_no_; }
  const std::string& path() const { return path_; }
  // Throws divrec::Error "path:line: message: 'line text'".
  [[noreturn]] void fail(const std::string& message, std::string_view line) const;

 private:
  bool refill();
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::string carry_;  // a line longer than the buffer
  int64_t line_no_ = 0;
  std::unique_ptr<core::Progress> progress_;
};

// Splits on a single character (empty fields kept).
void split(std::string_view s, char delim, std::vector<std::string_view>* out);
// Splits on a multi-character separator such as "::".
void split(std::string_view s, std::string_view delim, std::vector<std::string_view>* out);
// Splits on runs of spaces/tabs (no empty fields).
void split_ws(std::string_view s, std::vector<std::string_view>* out);
// Splits one CSV record: fields may be double-quoted ("a, b"), with "" for a quote inside.
void split_csv(std::string_view s, char delim, std::vector<std::string>* out);
std::string_view trim(std::string_view s);

bool parse_double(std::string_view s, double* out);
// A path inside a directory given on the command line.
std::string path_join(const std::string& dir, const std::string& name);
bool is_directory(const std::string& path);

}  // namespace divrec::data
