// A threaded in-process fake communicator for unit tests of collective logic: run_ranks(W, fn)
// runs fn(comm) on W threads, each with its own rank, all sharing one hub. Collectives copy into
// the hub, meet at a generation barrier, and reduce in rank order (like MPI, deterministic).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/comm/communicator.h"

namespace divrec::testing {

class FakeHub {
 public:
  explicit FakeHub(int world)
      : world_(world), slots_(world), counts_(world), block_counts_(world) {}
  int world() const { return world_; }

  // Blocks until every rank has called sync() for this generation.
  void sync() {
    std::unique_lock<std::mutex> lock(m_);
    int64_t gen = generation_;
    if (++arrived_ == world_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
  }
  std::vector<std::vector<char>>& slots() { return slots_; }
  std::vector<size_t>& counts() { return counts_; }
  // alltoallv: rank r's send_counts, so receivers can find their block in r's slot.
  std::vector<std::vector<size_t>>& block_counts() { return block_counts_; }

 private:
  int world_;
  std::mutex m_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::vector<std::vector<char>> slots_;
  std::vector<size_t> counts_;
  std::vector<std::vector<size_t>> block_counts_;
};

class FakeCommunicator : public core::Communicator {
 public:
  FakeCommunicator(FakeHub* hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }
  int world() const override { return hub_->world(); }
  std::string backend() const override { return "fake"; }
  int64_t collectives() const { return collectives_; }

  void allreduce(void* data, size_t count, core::DType dtype, core::ReduceOp op) override {
    ++collectives_;
    size_t bytes = count * core::dtype_size(dtype);
    publish(data, bytes);
    switch (dtype) {
      case core::DType::kFloat32: reduce<float>(data, count, op); break;
      case core::DType::kFloat64: reduce<double>(data, count, op); break;
      case core::DType::kInt32: reduce<int32_t>(data, count, op); break;
      case core::DType::kInt64: reduce<int64_t>(data, count, op); break;
      case core::DType::kUInt8: reduce<uint8_t>(data, count, op); break;
    }
    hub_->sync();
  }
  void broadcast(void* data, size_t count, core::DType dtype, int root) override {
    ++collectives_;
    size_t bytes = count * core::dtype_size(dtype);
    publish(data, bytes);
    if (bytes) std::memcpy(data, hub_->slots()[root].data(), bytes);
    hub_->sync();
  }
  void allgather(const void* send, void* recv, size_t count, core::DType dtype) override {
    std::vector<size_t> counts(world(), count);
    allgatherv(send, count, recv, counts, dtype);
  }
  void allgatherv(const void* send, size_t count, void* recv, const std::vector<size_t>& counts,
                  core::DType dtype) override {
    ++collectives_;
    size_t es = core::dtype_size(dtype);
    publish(send, count * es);
    auto* out = static_cast<char*>(recv);
    for (int r = 0; r < world(); ++r) {
      size_t n = counts[r] * es;
      if (hub_->slots()[r].size() != n) throw std::runtime_error("fake allgatherv: count mismatch");
      if (n) std::memcpy(out, hub_->slots()[r].data(), n);
      out += n;
    }
    hub_->sync();
  }
  // Rank order like MPI: the block from rank s is s's send_counts[rank] elements, found after
  // s's blocks for lower ranks. A count mismatch throws (after the last sync, so peers finish).
  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts, core::DType dtype) override {
    ++collectives_;
    core::check_alltoallv_counts(world(), send_counts, recv_counts);
    size_t es = core::dtype_size(dtype);
    hub_->block_counts()[rank_] = send_counts;
    publish(send, core::block_offsets(send_counts).back() * es);
    auto* out = static_cast<char*>(recv);
    bool mismatch = false;
    for (int s = 0; s < world(); ++s) {
      const auto& theirs = hub_->block_counts()[s];
      mismatch = mismatch || theirs[rank_] != recv_counts[s];
      size_t n = std::min(theirs[rank_], recv_counts[s]) * es;
      if (n) std::memcpy(out, hub_->slots()[s].data() + core::block_offsets(theirs)[rank_] * es, n);
      out += recv_counts[s] * es;
    }
    hub_->sync();
    if (mismatch) throw std::runtime_error("fake alltoallv: recv_counts differ from peers' sends");
  }
  void barrier() override {
    ++collectives_;
    hub_->sync();
  }
  [[noreturn]] void abort(int code) override { throw std::runtime_error("fake abort"); }
  using core::Communicator::allgatherv;
  using core::Communicator::allreduce;
  using core::Communicator::alltoallv;
  using core::Communicator::broadcast;

 private:
  void publish(const void* data, size_t bytes) {
    auto& slot = hub_->slots()[rank_];
    slot.resize(bytes);
    if (bytes) std::memcpy(slot.data(), data, bytes);
    hub_->sync();
  }
  template <typename T>
  void reduce(void* data, size_t count, core::ReduceOp op) {
    auto* out = static_cast<T*>(data);
    for (size_t i = 0; i < count; ++i) {
      T acc = reinterpret_cast<const T*>(hub_->slots()[0].data())[i];
      for (int r = 1; r < world(); ++r) {
        T v = reinterpret_cast<const T*>(hub_->slots()[r].data())[i];
        if (op == core::ReduceOp::kSum) acc = static_cast<T>(acc + v);
        if (op == core::ReduceOp::kMin) acc = std::min(acc, v);
        if (op == core::ReduceOp::kMax) acc = std::max(acc, v);
      }
      out[i] = acc;
    }
  }
  FakeHub* hub_;
  int rank_;
  int64_t collectives_ = 0;
};

// Runs fn on `world` threads, one fake rank each; rethrows the first exception.
inline void run_ranks(int world, const std::function<void(FakeCommunicator&)>& fn) {
  FakeHub hub(world);
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(world);
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      FakeCommunicator comm(&hub, r);
      try {
        fn(comm);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace divrec::testing
