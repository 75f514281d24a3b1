// The collective watchdog fires with the armed description after the timeout, and not before.
#include <gtest/gtest.h>

#include <atomic>

#include "core/watchdog.h"

TEST(Watchdog, FiresAfterTimeoutWithDescription) {
  std::atomic<int> fired{0};
  std::string seen;
  divrec::core::Watchdog w(0.2, [&](const std::string& what, double waited) {
    seen = what;
    EXPECT_GE(waited, 0.2);
    fired++;
  });
  {
    divrec::core::WatchdogScope s(&w, "quick step");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(fired.load(), 0);
  w.arm("gradient allreduce at step 7");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(seen, "gradient allreduce at step 7");
}
