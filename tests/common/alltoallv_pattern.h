// The alltoallv pattern the fake and MPI tests share: rank s sends rank d count(s, d) elements,
// element k being 1000s + 100d + k (uint8: 50s + 10d + k), so every received value names its
// sender, receiver and position; tensor rows [2, 3] hold 1000s + 100d + 10j + e for row j.
// The tensor allgatherv uses the same blocks with d = the gathering rank's count index (every
// rank contributes count(s, 0) rows, the same on every receiver).
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "core/comm/communicator.h"
#include "core/comm/typed.h"

namespace divrec::testing::a2a {

using CountFn = size_t (*)(int s, int d);

// Uneven, with zeros from 2 ranks up: (s + 2d + 1) % 4.
inline size_t uneven_count(int s, int d) { return static_cast<size_t>((s + 2 * d + 1) % 4); }

template <typename T>
T value(int s, int d, size_t k) {
  if (sizeof(T) == 1) return static_cast<T>(50 * s + 10 * d + static_cast<int>(k));
  return static_cast<T>(1000 * s + 100 * d + static_cast<int>(k));
}

inline std::vector<size_t> recv_counts(int me, int world, CountFn count = uneven_count) {
  std::vector<size_t> out;
  for (int s = 0; s < world; ++s) out.push_back(count(s, me));
  return out;
}

// Rank me's send buffer (blocks for ranks 0..world-1) and its send_counts.
template <typename T>
std::vector<T> make_send(int me, int world, std::vector<size_t>* send_counts,
                         CountFn count = uneven_count) {
  std::vector<T> send;
  send_counts->clear();
  for (int d = 0; d < world; ++d) {
    send_counts->push_back(count(me, d));
    for (size_t k = 0; k < count(me, d); ++k) send.push_back(value<T>(me, d, k));
  }
  return send;
}

template <typename T>
void expect_received(int me, int world, const std::vector<T>& recv, CountFn count = uneven_count) {
  size_t pos = 0;
  for (int s = 0; s < world; ++s) {
    for (size_t k = 0; k < count(s, me); ++k) {
      ASSERT_LT(pos, recv.size());
      EXPECT_EQ(recv[pos++], (value<T>(s, me, k))) << "from rank " << s << " element " << k;
    }
  }
  EXPECT_EQ(pos, recv.size());
}

// One host-buffer alltoallv of the pattern, checked.
template <typename T>
void host_exchange(core::Communicator& c, CountFn count = uneven_count) {
  int me = c.rank(), world = c.world();
  std::vector<size_t> send_counts;
  auto send = make_send<T>(me, world, &send_counts, count);
  auto expect = recv_counts(me, world, count);
  size_t total = 0;
  for (auto n : expect) total += n;
  std::vector<T> recv(total, static_cast<T>(0));
  c.alltoallv(send.data(), send_counts, recv.data(), expect, core::dtype_for<T>());
  expect_received(me, world, recv, count);
}

inline void host_exchange_every_dtype(core::Communicator& c, CountFn count = uneven_count) {
  host_exchange<float>(c, count);
  host_exchange<double>(c, count);
  host_exchange<int32_t>(c, count);
  host_exchange<int64_t>(c, count);
  host_exchange<uint8_t>(c, count);
}

// The typed helper on the pattern: data and recv_counts checked; recv_counts is optional.
template <typename T>
void typed_exchange(core::Communicator& c, CountFn count = uneven_count) {
  int me = c.rank(), world = c.world();
  std::vector<size_t> send_counts, got_counts;
  auto send = make_send<T>(me, world, &send_counts, count);
  auto recv = core::alltoallv(c, send, send_counts, &got_counts);
  EXPECT_EQ(got_counts, recv_counts(me, world, count));
  expect_received(me, world, recv, count);
  EXPECT_EQ(core::alltoallv(c, send, send_counts, nullptr), recv);
}

// count(s, d) rows [2, 3] float32 from s to d.
inline torch::Tensor row_block(int s, int d, CountFn count) {
  auto n = static_cast<int64_t>(count(s, d));
  auto j = torch::arange(n, torch::kFloat32).unsqueeze(1);
  auto block = 1000.0f * s + 100.0f * d + 10.0f * j + torch::arange(6, torch::kFloat32);
  return block.view({n, 2, 3});
}

// One tensor alltoallv of the pattern ([rows, 2, 3] float32), checked against the formula.
inline void tensor_exchange(core::Communicator& c, CountFn count = uneven_count,
                            torch::Device device = torch::kCPU) {
  int me = c.rank(), world = c.world();
  std::vector<torch::Tensor> sent, expected;
  std::vector<size_t> send_rows;
  for (int d = 0; d < world; ++d) {
    send_rows.push_back(count(me, d));
    sent.push_back(row_block(me, d, count));
    expected.push_back(row_block(d, me, count));
  }
  auto want = torch::cat(expected);
  auto recv = torch::full_like(want, -1.0f).to(device);
  c.alltoallv(torch::cat(sent).to(device), send_rows, recv, recv_counts(me, world, count));
  EXPECT_TRUE(torch::equal(recv.to(torch::kCPU), want)) << "rank " << me << " got " << recv;
}

// One tensor allgatherv ([rows, 2, 3] float32): rank s contributes row_block(s, 0) (count(s, 0)
// rows, zero for some ranks); every rank must hold all blocks in rank order.
inline void tensor_allgatherv(core::Communicator& c, CountFn count = uneven_count,
                              torch::Device device = torch::kCPU) {
  int me = c.rank(), world = c.world();
  std::vector<size_t> counts;
  std::vector<torch::Tensor> blocks;
  for (int s = 0; s < world; ++s) {
    counts.push_back(count(s, 0));
    blocks.push_back(row_block(s, 0, count));
  }
  auto want = torch::cat(blocks);
  auto recv = torch::full_like(want, -1.0f).to(device);
  c.allgatherv(row_block(me, 0, count).to(device), recv, counts);
  EXPECT_TRUE(torch::equal(recv.to(torch::kCPU), want)) << "rank " << me << " got " << recv;
}

}  // namespace divrec::testing::a2a
