// The ending every mpirun-launched gtest main shares: only rank 0 prints results, and the job's
// exit code is the worst rank's, so a failure on any rank fails the ctest entry.
#pragma once

#include <gtest/gtest.h>

#include "core/comm/typed.h"

namespace divrec::testing {

inline int run_all_tests_on_ranks(core::Communicator& comm) {
  if (comm.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  return core::allreduce_scalar<int32_t>(comm, rc, core::ReduceOp::kMax);
}

}  // namespace divrec::testing
