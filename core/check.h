// Error type and check macros for all of divrec.
// Every failure becomes a divrec::Error carrying file:line, what went wrong and a hint,
// so `main` can log it with the rank and abort the whole job.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace divrec {

class Error : public std::runtime_error {
 public:
  Error(const char* file, int line, const std::string& what, const std::string& hint = "");
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string file_;
  int line_;
  std::string hint_;
};

namespace detail {
// Streams any number of arguments into one string (used by the macros below).
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
inline std::string concat() { return {}; }
}  // namespace detail

}  // namespace divrec

// DIVREC_CHECK(cond, "message parts", ...): throws divrec::Error when cond is false.
#define DIVREC_CHECK(cond, ...)                                                         \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      throw ::divrec::Error(__FILE__, __LINE__,                                         \
                            ::divrec::detail::concat("check failed: " #cond ": ", __VA_ARGS__)); \
    }                                                                                   \
  } while (0)

// DIVREC_CHECK_HINT(cond, hint, "message parts", ...): as DIVREC_CHECK, with a hint for the user.
#define DIVREC_CHECK_HINT(cond, hint, ...)                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      throw ::divrec::Error(__FILE__, __LINE__, ::divrec::detail::concat(__VA_ARGS__), hint); \
    }                                                                                   \
  } while (0)

// DIVREC_FAIL("message parts", ...): unconditional error.
#define DIVREC_FAIL(...) \
  throw ::divrec::Error(__FILE__, __LINE__, ::divrec::detail::concat(__VA_ARGS__))

// MPI_CHECK(call): MPI_SUCCESS is 0 by the standard; other codes are decoded by the MPI backend.
#define MPI_CHECK(call)                                                                  \
  do {                                                                                  \
    int divrec_mpi_rc_ = (call);                                                        \
    if (divrec_mpi_rc_ != 0) {                                                          \
      throw ::divrec::Error(__FILE__, __LINE__,                                         \
                            ::divrec::detail::concat(#call " failed with MPI error ",   \
                                                     divrec_mpi_rc_),                   \
                            "check that all ranks call the same collectives in the same order"); \
    }                                                                                   \
  } while (0)

// H5_CHECK(call, "context"): HDF5 C calls return a negative herr_t/hid_t on failure.
#define H5_CHECK(call, ...)                                                              \
  ([&]() {                                                                              \
    auto divrec_h5_rc_ = (call);                                                        \
    if (divrec_h5_rc_ < 0) {                                                            \
      throw ::divrec::Error(__FILE__, __LINE__,                                         \
                            ::divrec::detail::concat("HDF5 call " #call " failed: ", __VA_ARGS__), \
                            "the file may be truncated, foreign or of another format version"); \
    }                                                                                   \
    return divrec_h5_rc_;                                                               \
  }())
