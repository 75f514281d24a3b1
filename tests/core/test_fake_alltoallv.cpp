// alltoallv on the threaded fake (1-4 ranks) and on LocalCommunicator: host buffers for every
// dtype, the typed helpers, the row-wise tensor overload and argument errors; the tensor
// allgatherv (row blocks in rank order) the same way. Expected values
// are the closed forms of common/alltoallv_pattern.h.
#include <gtest/gtest.h>

#include "common/alltoallv_pattern.h"
#include "common/expect_error.h"
#include "common/fake_comm.h"
#include "core/check.h"
#include "core/comm/typed.h"

using namespace divrec::core;
using namespace divrec::testing::a2a;
using divrec::testing::expect_error;
using divrec::testing::FakeCommunicator;
using divrec::testing::run_ranks;

TEST(Alltoallv, HostBuffersEveryDtypeOneToFourRanks) {
  for (int world = 1; world <= 4; ++world) {
    SCOPED_TRACE("world " + std::to_string(world));
    run_ranks(world, [](FakeCommunicator& c) { host_exchange_every_dtype(c); });
  }
}

TEST(Alltoallv, AllZeroCounts) {
  run_ranks(3, [](FakeCommunicator& c) {
    std::vector<size_t> zeros(3, 0);
    c.alltoallv(nullptr, zeros, nullptr, zeros, DType::kFloat32);
    std::vector<size_t> got;
    auto out = alltoallv(c, std::vector<int32_t>{}, zeros, &got);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(got, zeros);
  });
}

TEST(Alltoallv, TypedHelperFillsRecvCounts) {
  for (int world = 1; world <= 4; ++world) {
    SCOPED_TRACE("world " + std::to_string(world));
    run_ranks(world, [](FakeCommunicator& c) {
      typed_exchange<int64_t>(c);
      typed_exchange<uint8_t>(c);
      // exchange_counts alone: rank s tells rank d the number 10s + d + 7.
      int me = c.rank(), W = c.world();
      std::vector<size_t> mine;
      for (int d = 0; d < W; ++d) mine.push_back(static_cast<size_t>(10 * me + d + 7));
      auto theirs = exchange_counts(c, mine);
      for (int s = 0; s < W; ++s) EXPECT_EQ(theirs[s], static_cast<size_t>(10 * s + me + 7));
    });
  }
}

TEST(Alltoallv, TensorRowsOfDimZero) {
  for (int world = 1; world <= 4; ++world) {
    SCOPED_TRACE("world " + std::to_string(world));
    run_ranks(world, [](FakeCommunicator& c) {
      tensor_exchange(c);
      // 1-D int64: a row is one element (ids to their owners).
      int me = c.rank(), W = c.world();
      std::vector<size_t> send_rows;
      auto ids = torch::tensor(make_send<int64_t>(me, W, &send_rows), torch::kInt64);
      auto expect = recv_counts(me, W);
      auto got =
          torch::full({static_cast<int64_t>(block_offsets(expect).back())}, -1, torch::kInt64);
      c.alltoallv(ids, send_rows, got, expect);
      std::vector<int64_t> got_v(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + got.numel());
      expect_received(me, W, got_v);
    });
  }
}

TEST(Allgatherv, TensorRowsInRankOrder) {
  for (int world = 1; world <= 4; ++world) {
    SCOPED_TRACE("world " + std::to_string(world));
    run_ranks(world, [](FakeCommunicator& c) {
      tensor_allgatherv(c);                                      // at world 4, rank 3 sends 0 rows
      tensor_allgatherv(c, [](int, int) { return size_t{0}; });  // nobody sends anything
      tensor_allgatherv(c, [](int s, int) { return size_t{s == 0 ? 0u : 2u}; });
    });
  }
  LocalCommunicator local;
  tensor_allgatherv(local);
}

TEST(Allgatherv, TensorBadArgumentsThrow) {
  run_ranks(2, [](FakeCommunicator& c) {
    auto send = torch::zeros({2, 4});
    auto recv = torch::zeros({4, 4});
    expect_error([&] { c.allgatherv(send, recv, {2}); }, {"one count per rank"});
    expect_error([&] { c.allgatherv(send, recv, {3, 1}); }, {"sends 2 rows"});
    auto recv5 = torch::zeros({5, 4});
    expect_error([&] { c.allgatherv(send, recv5, {2, 2}); }, {"add up to 4", "recv has 5"});
    auto recv3 = torch::zeros({4, 3});
    expect_error([&] { c.allgatherv(send, recv3, {2, 2}); }, {"rows differ"});
    auto recv_int = torch::zeros({4, 4}, torch::kInt32);
    expect_error([&] { c.allgatherv(send, recv_int, {2, 2}); }, {"recv is Int"});
    auto both = torch::zeros({4, 4});
    auto part = both.narrow(0, 0, 2);
    expect_error([&] { c.allgatherv(part, both, {2, 2}); }, {"overlap"});
    // Every rank still takes part in one good call, so the fake's rounds stay aligned.
    c.allgatherv(send, recv, {2, 2});
  });
}

TEST(Alltoallv, BadArgumentsThrow) {
  run_ranks(2, [](FakeCommunicator& c) {
    std::vector<float> buf(4);
    std::vector<size_t> three(3, 1), two(2, 1);
    EXPECT_THROW(c.alltoallv(buf.data(), three, buf.data(), two, DType::kFloat32), divrec::Error);
    EXPECT_THROW(c.alltoallv(buf.data(), two, buf.data(), three, DType::kFloat32), divrec::Error);
    EXPECT_THROW(exchange_counts(c, three), divrec::Error);
    EXPECT_THROW(alltoallv(c, buf, two, nullptr), divrec::Error);  // counts add up to 2, not 4
    auto send = torch::zeros({2, 4});
    auto recv3 = torch::zeros({2, 3});
    EXPECT_THROW(c.alltoallv(send, two, recv3, two), divrec::Error);  // row sizes differ
    auto recv_rows = torch::zeros({3, 4});
    EXPECT_THROW(c.alltoallv(send, two, recv_rows, two), divrec::Error);  // 3 rows, counts say 2
    auto recv_int = torch::zeros({2, 4}, torch::kInt32);
    EXPECT_THROW(c.alltoallv(send, two, recv_int, two), divrec::Error);  // dtypes differ
    EXPECT_THROW(c.alltoallv(send, two, send, two), divrec::Error);      // in place
    auto scalar = torch::zeros({});
    EXPECT_THROW(c.alltoallv(scalar, two, recv_rows, two), divrec::Error);
    // Every rank sends each peer 1 element but expects 2 from rank 0: the fake sees it.
    std::vector<int32_t> out(3);
    std::vector<size_t> expect = {2, 1};
    EXPECT_THROW(c.alltoallv(buf.data(), two, out.data(), expect, DType::kInt32),
                 std::runtime_error);
  });
}

TEST(Alltoallv, LocalCommunicatorCopies) {
  LocalCommunicator c;
  host_exchange_every_dtype(c);
  tensor_exchange(c);
  std::vector<double> send = {1.5, 2.5, 3.5}, recv(3);
  std::vector<size_t> got;
  EXPECT_EQ(alltoallv(c, send, {3}, &got), send);
  EXPECT_EQ(got, std::vector<size_t>{3});
  EXPECT_THROW(c.alltoallv(send.data(), {3}, recv.data(), {2}, DType::kFloat64), divrec::Error);
  EXPECT_THROW(c.alltoallv(send.data(), {1, 2}, recv.data(), {3}, DType::kFloat64), divrec::Error);
}
