// divrec::Error: formats "file:line: what (hint: ...)" once, at construction.
#include "core/check.h"

namespace divrec {

namespace {
std::string format_error(const char* file, int line, const std::string& what,
                         const std::string& hint) {
  std::string base = file;
  auto pos = base.find_last_of('/');
  std::string s = (pos == std::string::npos ? base : base.substr(pos + 1)) + ":" +
                  std::to_string(line) + ": " + what;
  if (!hint.empty()) s += " (hint: " + hint + ")";
  return s;
}
}  // namespace

Error::Error(const char* file, int line, const std::string& what, const std::string& hint)
    : std::runtime_error(format_error(file, line, what, hint)),
      file_(file),
      line_(line),
      hint_(hint) {}

}  // namespace divrec
