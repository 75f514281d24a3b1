// The Communicator interface: topology (rank, world) plus the collectives divrec needs, over
// host buffers (type-erased, with typed helpers in typed.h) and torch tensors. Backends: MPI
// (CPU, also the control plane), NCCL (CUDA tensors), local (world = 1), and a threaded fake
// for unit tests. Every rank must call the same collectives in the same order.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace divrec::core {

enum class DType { kFloat32, kFloat64, kInt32, kInt64, kUInt8 };
enum class ReduceOp { kSum, kMin, kMax };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
const char* reduce_op_name(ReduceOp op);
DType dtype_of(const torch::Tensor& t);  // throws for unsupported scalar types

template <typename T>
constexpr DType dtype_for();
template <>
constexpr DType dtype_for<float>() { return DType::kFloat32; }
template <>
constexpr DType dtype_for<double>() { return DType::kFloat64; }
template <>
constexpr DType dtype_for<int32_t>() { return DType::kInt32; }
template <>
constexpr DType dtype_for<int64_t>() { return DType::kInt64; }
template <>
constexpr DType dtype_for<uint8_t>() { return DType::kUInt8; }

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world() const = 0;
  virtual std::string backend() const = 0;

  // In place: data[i] = op over ranks of data[i].
  virtual void allreduce(void* data, size_t count, DType dtype, ReduceOp op) = 0;
  // data on root is copied to every rank.
  virtual void broadcast(void* data, size_t count, DType dtype, int root) = 0;
  // recv holds world * count elements, rank r's block at r * count.
  virtual void allgather(const void* send, void* recv, size_t count, DType dtype) = 0;
  // counts[r] elements from rank r, concatenated in rank order into recv.
  virtual void allgatherv(const void* send, size_t count, void* recv,
                          const std::vector<size_t>& counts, DType dtype) = 0;
  // All-to-all with a size per peer (row-wise sharded tables: ids to row owners, rows back).
  // Counts are in ELEMENTS of dtype, one per rank (both vectors have world() entries; zeros are
  // fine). `send` holds the blocks for ranks 0..W-1 back to back, send_counts[r] elements for
  // rank r; `recv` gets the blocks from ranks 0..W-1 back to back, recv_counts[r] elements from
  // rank r. recv_counts[r] must equal rank r's send_counts[rank()]: the caller's job
  // (exchange_counts in typed.h gets them). Throws on wrong-length counts, and on a mismatch
  // where the backend can see one; send and recv must not overlap.
  virtual void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                         const std::vector<size_t>& recv_counts, DType dtype) = 0;
  virtual void barrier() = 0;
  // Ends the whole job (every rank) with this exit code. Never returns.
  [[noreturn]] virtual void abort(int code) = 0;

  // Tensor collectives. The base implementation handles contiguous CPU tensors through the
  // host-buffer calls; the NCCL backend overrides them for CUDA tensors.
  virtual void allreduce(torch::Tensor& t, ReduceOp op);
  virtual void broadcast(torch::Tensor& t, int root);
  // alltoallv over rows of dim 0: counts are ROWS, a row being numel / size(0) elements (the
  // same for send and recv, as is the dtype); send has sum(send_counts) rows and recv, already
  // allocated, sum(recv_counts) rows. E.g. send [N, 64] float32 -> recv [M, 64] float32.
  virtual void alltoallv(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                         torch::Tensor& recv, const std::vector<size_t>& recv_counts);
  // allgatherv over rows of dim 0: rank r contributes counts[r] ROWS (send has counts[rank()]
  // rows); recv, already allocated with sum(counts) rows of the same row shape and dtype, gets
  // them in rank order. E.g. rank blocks [n_r, 64] float32 -> recv [sum n_r, 64] float32.
  // The base implementation takes CPU tensors (via the host-buffer allgatherv); the NCCL
  // backend also CUDA ones. Throws on wrong counts, shapes, dtypes, devices or overlap.
  virtual void allgatherv(const torch::Tensor& send, torch::Tensor& recv,
                          const std::vector<size_t>& counts);
};

// alltoallv's shared argument checks. check_alltoallv_counts: both count vectors have `world`
// entries. alltoallv_row_elems: the tensors suit the tensor overload (dims, dtype, rows per
// counts, no overlap); returns the elements per row (the same for both).
void check_alltoallv_counts(int world, const std::vector<size_t>& send_counts,
                            const std::vector<size_t>& recv_counts);
size_t alltoallv_row_elems(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                           const torch::Tensor& recv, const std::vector<size_t>& recv_counts);
// allgatherv's (tensor overload) checks: `world` counts, send holds counts[rank] rows and recv
// sum(counts), both of one dtype, row shape and device, contiguous, not overlapping; returns the
// elements per row.
size_t allgatherv_row_elems(int world, int rank, const torch::Tensor& send,
                            const torch::Tensor& recv, const std::vector<size_t>& counts);
// counts[i] * factor for every i (rows -> elements); throws on size_t overflow.
std::vector<size_t> scale_counts(const std::vector<size_t>& counts, size_t factor);
// Exclusive prefix sums plus the total: counts.size() + 1 entries, entry r = offset of block r.
std::vector<size_t> block_offsets(const std::vector<size_t>& counts);

using CommPtr = std::shared_ptr<Communicator>;

// The communicator of this job, registered by whoever creates it, so that `main`'s error handler
// and the watchdog can abort every rank. Null until set.
void set_job_communicator(CommPtr comm);
CommPtr job_communicator();

// world = 1: every collective is the identity. Used by serving, tools and single-process runs.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world() const override { return 1; }
  std::string backend() const override { return "local"; }
  void allreduce(void*, size_t, DType, ReduceOp) override {}
  void broadcast(void*, size_t, DType, int) override {}
  void allgather(const void* send, void* recv, size_t count, DType dtype) override;
  void allgatherv(const void* send, size_t count, void* recv, const std::vector<size_t>& counts,
                  DType dtype) override;
  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts, DType dtype) override;
  void barrier() override {}
  [[noreturn]] void abort(int code) override;
  using Communicator::allgatherv;
  using Communicator::allreduce;
  using Communicator::alltoallv;
  using Communicator::broadcast;
};

}  // namespace divrec::core
