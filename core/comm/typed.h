// Typed front-end helpers over the type-erased Communicator (as in XGBoost's collective):
// allreduce_sum(comm, vec), allgatherv(comm, vec) and friends, used by metrics and samplers.
#pragma once

#include <string>
#include <vector>

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

// Broadcast a string from root (length first, then bytes).
inline void broadcast_string(Communicator& comm, std::string& s, int root) {
  int64_t n = static_cast<int64_t>(s.size());
  comm.broadcast(&n, 1, DType::kInt64, root);
  s.resize(static_cast<size_t>(n));
  if (n > 0) comm.broadcast(s.data(), s.size(), DType::kUInt8, root);
}

}  // namespace divrec::core
