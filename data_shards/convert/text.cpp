// LineReader and field splitting (see text.h).
#include "data_shards/convert/text.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/check.h"

namespace divrec::data {

namespace {
constexpr size_t kBufferBytes = size_t{1} << 20;
}

LineReader::LineReader(std::string path, const std::string& what) : path_(std::move(path)) {
  DIVREC_CHECK_HINT(std::filesystem::is_regular_file(path_), "check --input", "no such file: '",
                    path_, "'");
  file_ = std::fopen(path_.c_str(), "rb");
  DIVREC_CHECK(file_ != nullptr, "cannot open '", path_, "': ", std::strerror(errno));
  buf_.resize(kBufferBytes);
  if (!what.empty()) {
    progress_ = std::make_unique<core::Progress>(
        what + " (bytes)", static_cast<int64_t>(std::filesystem::file_size(path_)));
  }
}

LineReader::~LineReader() {
  if (file_) std::fclose(file_);
}

bool LineReader::refill() {
  if (eof_) return false;
  size_t got = std::fread(buf_.data(), 1, buf_.size(), file_);
  DIVREC_CHECK(!std::ferror(file_), "read error in '", path_, "': ", std::strerror(errno));
  if (got < buf_.size()) eof_ = true;
  begin_ = 0;
  end_ = got;
  if (progress_) {
    progress_->advance(static_cast<int64_t>(got));
    if (eof_) progress_->finish();
  }
  return got > 0;
}

bool LineReader::next(std::string_view* line) {
  carry_.clear();
  bool have_any = false;
  while (true) {
    if (begin_ == end_ && !refill()) {
      if (!have_any) return false;
      break;  // last line without a newline
    }
    have_any = true;
    const char* b = buf_.data() + begin_;
    const void* nl = std::memchr(b, '\n', end_ - begin_);
    if (nl) {
      size_t len = static_cast<const char*>(nl) - b;
      begin_ += len + 1;
      if (carry_.empty()) {
        *line = std::string_view(b, len);
      } else {
        carry_.append(b, len);
        *line = carry_;
      }
      ++line_no_;
      if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
      return true;
    }
    carry_.append(b, end_ - begin_);
    begin_ = end_;
  }
  *line = carry_;
  ++line_no_;
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

void LineReader::fail(const std::string& message, std::string_view line) const {
  std::string text(line.substr(0, 200));
  if (line.size() > 200) text += "...";
  DIVREC_FAIL(path_, ":", line_no_, ": ", message, ": '", text, "'");
}

void split(std::string_view s, std::string_view delim, std::vector<std::string_view>* out) {
  out->clear();
  size_t start = 0;
  while (true) {
    size_t p = s.find(delim, start);
    if (p == std::string_view::npos) {
      out->push_back(s.substr(start));
      return;
    }
    out->push_back(s.substr(start, p - start));
    start = p + delim.size();
  }
}

void split(std::string_view s, char delim, std::vector<std::string_view>* out) {
  split(s, std::string_view(&delim, 1), out);
}

void split_ws(std::string_view s, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out->push_back(s.substr(i, j - i));
    i = j;
  }
}

void split_csv(std::string_view s, char delim, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (!in_quotes && s[i] == delim)) {
      out->push_back(quoted ? field : std::string(trim(field)));
      field.clear();
      quoted = false;
      continue;
    }
    char c = s[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trim(field).empty()) {
      field.clear();
      in_quotes = quoted = true;
    } else {
      field += c;
    }
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double* out) {
  std::string tmp(trim(s));
  if (tmp.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(tmp.c_str(), &end);
  return errno == 0 && end == tmp.c_str() + tmp.size();
}

std::string path_join(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

bool is_directory(const std::string& path) { return std::filesystem::is_directory(path); }

}  // namespace divrec::data
