// Typed front-end helpers over the type-erased Communicator (as in XGBoost's collective):
// allreduce_sum(comm, vec), allgatherv(comm, vec), alltoallv(comm, vec, counts) and friends,
// used by metrics, samplers and sharded embedding tables.
#pragma once

#include <string>
#include <vector>

#include "core/check.h"
#include "core/comm/communicator.h"

namespace divrec::core {

template <typename T>
void allreduce(Communicator& comm, std::vector<T>& v, ReduceOp op) {
  if (!v.empty()) comm.allreduce(v.data(), v.size(), dtype_for<T>(), op);
}
template <typename T>
void allreduce_sum(Communicator& comm, std::vector<T>& v) { allreduce(comm, v, ReduceOp::kSum); }

template <typename T>
T allreduce_scalar(Communicator& comm, T x, ReduceOp op) {
  comm.allreduce(&x, 1, dtype_for<T>(), op);
  return x;
}

// Every rank's vector, concatenated in rank order; sizes may differ between ranks.
template <typename T>
std::vector<T> allgatherv(Communicator& comm, const std::vector<T>& mine) {
  int64_t n = static_cast<int64_t>(mine.size());
  std::vector<int64_t> sizes(comm.world());
  comm.allgather(&n, sizes.data(), 1, DType::kInt64);
  std::vector<size_t> counts(sizes.begin(), sizes.end());
  size_t total = 0;
  for (auto c : counts) total += c;
  std::vector<T> out(total);
  comm.allgatherv(mine.data(), mine.size(), out.data(), counts, dtype_for<T>());
  return out;
}

// What each peer will send this rank, given what this rank sends each peer: out[s] is rank s's
// send_counts[rank()]. One alltoallv of one int64 per peer; send_counts has world() entries.
inline std::vector<size_t> exchange_counts(Communicator& comm,
                                           const std::vector<size_t>& send_counts) {
  DIVREC_CHECK(static_cast<int>(send_counts.size()) == comm.world(), "exchange_counts needs one ",
               "count per rank: got ", send_counts.size(), " for world ", comm.world());
  std::vector<int64_t> mine(send_counts.begin(), send_counts.end());
  std::vector<int64_t> theirs(send_counts.size());
  std::vector<size_t> ones(send_counts.size(), 1);
  comm.alltoallv(mine.data(), ones, theirs.data(), ones, DType::kInt64);
  return std::vector<size_t>(theirs.begin(), theirs.end());
}

// alltoallv of a vector: send holds the blocks for ranks 0..W-1 in order (send_counts[r]
// elements for rank r, adding up to send.size()). Returns the blocks from ranks 0..W-1 in order;
// *recv_counts (if given) gets their sizes. Two collectives: the counts, then the data.
template <typename T>
std::vector<T> alltoallv(Communicator& comm, const std::vector<T>& send,
                         const std::vector<size_t>& send_counts, std::vector<size_t>* recv_counts) {
  size_t sent = block_offsets(send_counts).back();
  DIVREC_CHECK(sent == send.size(), "alltoallv send_counts add up to ", sent, " but send has ",
               send.size(), " elements");
  std::vector<size_t> counts = exchange_counts(comm, send_counts);
  std::vector<T> out(block_offsets(counts).back());
  comm.alltoallv(send.data(), send_counts, out.data(), counts, dtype_for<T>());
  if (recv_counts != nullptr) *recv_counts = std::move(counts);
  return out;
}

// Broadcast a string from root (length first, then bytes).
inline void broadcast_string(Communicator& comm, std::string& s, int root) {
  int64_t n = static_cast<int64_t>(s.size());
  comm.broadcast(&n, 1, DType::kInt64, root);
  s.resize(static_cast<size_t>(n));
  if (n > 0) comm.broadcast(s.data(), s.size(), DType::kUInt8, root);
}

}  // namespace divrec::core
