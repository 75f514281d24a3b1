// The check macros carry file:line, the message and the hint.
#include <gtest/gtest.h>

#include "core/check.h"
#include "core/log.h"

TEST(Check, CarriesFileLineAndHint) {
  try {
    DIVREC_CHECK_HINT(1 + 1 == 3, "try arithmetic", "value was ", 2);
    FAIL() << "no throw";
  } catch (const divrec::Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("test_check.cpp:"), std::string::npos) << w;
    EXPECT_NE(w.find("value was 2"), std::string::npos) << w;
    EXPECT_NE(w.find("hint: try arithmetic"), std::string::npos) << w;
    EXPECT_EQ(e.hint(), "try arithmetic");
  }
}

TEST(Check, PassingCheckDoesNothing) { EXPECT_NO_THROW(DIVREC_CHECK(2 > 1, "never")); }

TEST(Check, H5CheckThrowsOnNegative) {
  EXPECT_THROW(H5_CHECK(-1, "opening x"), divrec::Error);
  EXPECT_EQ(H5_CHECK(7, "ok"), 7);
}

TEST(Check, MpiCheckThrowsOnNonZero) { EXPECT_THROW(MPI_CHECK(3), divrec::Error); }

TEST(Log, FormatsDurations) {
  EXPECT_EQ(divrec::core::format_duration(5.25), "5.2 s");
  EXPECT_EQ(divrec::core::format_duration(125), "2 min 05 s");
  EXPECT_EQ(divrec::core::format_duration(3725), "1 h 02 min");
}
