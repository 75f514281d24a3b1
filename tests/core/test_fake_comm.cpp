// The threaded fake communicator and the typed helpers: sums, min/max, allgatherv, broadcast.
#include <gtest/gtest.h>

#include "common/fake_comm.h"
#include "core/comm/typed.h"

using divrec::core::ReduceOp;
using divrec::testing::FakeCommunicator;
using divrec::testing::run_ranks;

TEST(FakeComm, AllreduceSumMinMax) {
  run_ranks(3, [](FakeCommunicator& c) {
    std::vector<double> v = {1.0 * c.rank(), 2.0};
    divrec::core::allreduce_sum(c, v);
    EXPECT_DOUBLE_EQ(v[0], 3.0);
    EXPECT_DOUBLE_EQ(v[1], 6.0);
    std::vector<int64_t> m = {c.rank() * 10 - 5};
    divrec::core::allreduce(c, m, ReduceOp::kMin);
    EXPECT_EQ(m[0], -5);
    EXPECT_EQ(divrec::core::allreduce_scalar<int64_t>(c, c.rank(), ReduceOp::kMax), 2);
  });
}

TEST(FakeComm, AllgathervUnequal) {
  run_ranks(3, [](FakeCommunicator& c) {
    std::vector<int32_t> mine(c.rank() + 1, c.rank());
    auto all = divrec::core::allgatherv(c, mine);
    EXPECT_EQ(all, (std::vector<int32_t>{0, 1, 1, 2, 2, 2}));
  });
}

TEST(FakeComm, BroadcastStringAndTensor) {
  run_ranks(2, [](FakeCommunicator& c) {
    std::string s = c.rank() == 1 ? "from one" : "";
    divrec::core::broadcast_string(c, s, 1);
    EXPECT_EQ(s, "from one");
    auto t = torch::full({4}, static_cast<float>(c.rank() + 1));
    c.allreduce(t, ReduceOp::kSum);
    EXPECT_TRUE(torch::allclose(t, torch::full({4}, 3.0f)));
  });
}
