// expect_error: a test expectation that a call throws divrec::Error whose message or hint
// contains every given part (file names, option names, values, the fix). Shared by the tests that
// check error messages part by part.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/check.h"

namespace divrec::testing {

template <typename Fn>
void expect_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected divrec::Error";
  } catch (const Error& e) {
    std::string msg = std::string(e.what()) + " | hint: " + e.hint();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << p << " not in " << msg;
  }
}

}  // namespace divrec::testing
