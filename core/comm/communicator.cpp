// Shared pieces of the Communicator: dtype helpers, tensor collectives via host buffers,
// alltoallv's argument checks, and the world = 1 backend.
#include "core/comm/communicator.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace divrec::core {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUInt8: return 1;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
  }
  return "?";
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kMin: return "min";
    case ReduceOp::kMax: return "max";
  }
  return "?";
}

DType dtype_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return DType::kFloat32;
    case torch::kFloat64: return DType::kFloat64;
    case torch::kInt32: return DType::kInt32;
    case torch::kInt64: return DType::kInt64;
    case torch::kUInt8: return DType::kUInt8;
    default: break;
  }
  DIVREC_FAIL("unsupported tensor dtype for a collective: ", t.scalar_type(),
              " (use float32, float64, int32, int64 or uint8)");
}

void Communicator::allreduce(torch::Tensor& t, ReduceOp op) {
  DIVREC_CHECK(t.device().is_cpu(), "backend '", backend(), "' reduces CPU tensors only, got ",
               t.device());
  DIVREC_CHECK(t.is_contiguous(), "allreduce needs a contiguous tensor");
  allreduce(t.data_ptr(), static_cast<size_t>(t.numel()), dtype_of(t), op);
}

void Communicator::broadcast(torch::Tensor& t, int root) {
  DIVREC_CHECK(t.device().is_cpu(), "backend '", backend(), "' broadcasts CPU tensors only, got ",
               t.device());
  DIVREC_CHECK(t.is_contiguous(), "broadcast needs a contiguous tensor");
  broadcast(t.data_ptr(), static_cast<size_t>(t.numel()), dtype_of(t), root);
}

void check_alltoallv_counts(int world, const std::vector<size_t>& send_counts,
                            const std::vector<size_t>& recv_counts) {
  DIVREC_CHECK(static_cast<int>(send_counts.size()) == world, "alltoallv needs one send count per ",
               "rank: got ", send_counts.size(), " for world ", world);
  DIVREC_CHECK(static_cast<int>(recv_counts.size()) == world, "alltoallv needs one recv count per ",
               "rank: got ", recv_counts.size(), " for world ", world);
}

std::vector<size_t> block_offsets(const std::vector<size_t>& counts) {
  std::vector<size_t> offsets(counts.size() + 1, 0);
  for (size_t r = 0; r < counts.size(); ++r) {
    DIVREC_CHECK(offsets[r] + counts[r] >= offsets[r], "block counts overflow size_t");
    offsets[r + 1] = offsets[r] + counts[r];
  }
  return offsets;
}

std::vector<size_t> scale_counts(const std::vector<size_t>& counts, size_t factor) {
  std::vector<size_t> out(counts.size());
  for (size_t r = 0; r < counts.size(); ++r) {
    DIVREC_CHECK(factor == 0 || counts[r] <= SIZE_MAX / factor, "count ", counts[r], " times ",
                 factor, " overflows size_t");
    out[r] = counts[r] * factor;
  }
  return out;
}

namespace {
// Elements per row of dim 0 (the product of the other dims, so it is defined for 0 rows too).
size_t row_elems(const torch::Tensor& t) {
  size_t n = 1;
  for (int64_t d = 1; d < t.dim(); ++d) n *= static_cast<size_t>(t.size(d));
  return n;
}

void check_disjoint(const torch::Tensor& send, const torch::Tensor& recv, const char* what) {
  if (send.numel() == 0 || recv.numel() == 0) return;
  auto* s = static_cast<const char*>(send.data_ptr());
  auto* r = static_cast<const char*>(recv.data_ptr());
  DIVREC_CHECK(s + send.nbytes() <= r || r + recv.nbytes() <= s, what,
               " send and recv tensors overlap (in-place is not supported)");
}

// The checks the row-wise tensor collectives share: both at least 1-d, one dtype, contiguous,
// the same elements per row (returned), not overlapping.
size_t check_row_tensors(const torch::Tensor& send, const torch::Tensor& recv, const char* what) {
  DIVREC_CHECK(send.dim() >= 1 && recv.dim() >= 1, what, " moves rows of dim 0: got ", send.dim(),
               "-d send and ", recv.dim(), "-d recv tensors");
  DIVREC_CHECK(send.scalar_type() == recv.scalar_type(), what, " send is ", send.scalar_type(),
               " but recv is ", recv.scalar_type());
  DIVREC_CHECK(send.is_contiguous() && recv.is_contiguous(), what, " needs contiguous tensors");
  size_t row = row_elems(send);
  DIVREC_CHECK(row_elems(recv) == row, what, " rows differ: send ", send.sizes(), " has ", row,
               " elements per row, recv ", recv.sizes(), " has ", row_elems(recv));
  check_disjoint(send, recv, what);
  return row;
}
}  // namespace

size_t alltoallv_row_elems(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                           const torch::Tensor& recv, const std::vector<size_t>& recv_counts) {
  size_t row = check_row_tensors(send, recv, "alltoallv");
  size_t send_rows = block_offsets(send_counts).back();
  size_t recv_rows = block_offsets(recv_counts).back();
  DIVREC_CHECK(send_rows == static_cast<size_t>(send.size(0)), "alltoallv send_counts add up to ",
               send_rows, " rows but send has ", send.size(0));
  DIVREC_CHECK(recv_rows == static_cast<size_t>(recv.size(0)), "alltoallv recv_counts add up to ",
               recv_rows, " rows but recv has ", recv.size(0));
  return row;
}

size_t allgatherv_row_elems(int world, int rank, const torch::Tensor& send,
                            const torch::Tensor& recv, const std::vector<size_t>& counts) {
  DIVREC_CHECK(static_cast<int>(counts.size()) == world,
               "allgatherv needs one count per rank: ", "got ", counts.size(), " for world ",
               world);
  DIVREC_CHECK(send.device() == recv.device(), "allgatherv needs send and recv on one device, got ",
               send.device(), " and ", recv.device());
  size_t row = check_row_tensors(send, recv, "allgatherv");
  DIVREC_CHECK(counts[static_cast<size_t>(rank)] == static_cast<size_t>(send.size(0)),
               "allgatherv: rank ", rank, " sends ", send.size(0), " rows but counts[", rank,
               "] = ", counts[static_cast<size_t>(rank)]);
  size_t total = block_offsets(counts).back();
  DIVREC_CHECK(total == static_cast<size_t>(recv.size(0)), "allgatherv counts add up to ", total,
               " rows but recv has ", recv.size(0));
  return row;
}

void Communicator::alltoallv(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                             torch::Tensor& recv, const std::vector<size_t>& recv_counts) {
  DIVREC_CHECK(send.device().is_cpu() && recv.device().is_cpu(), "backend '", backend(),
               "' exchanges CPU tensors only, got ", send.device(), " -> ", recv.device());
  check_alltoallv_counts(world(), send_counts, recv_counts);
  size_t row = alltoallv_row_elems(send, send_counts, recv, recv_counts);
  alltoallv(send.data_ptr(), scale_counts(send_counts, row), recv.data_ptr(),
            scale_counts(recv_counts, row), dtype_of(send));
}

void Communicator::allgatherv(const torch::Tensor& send, torch::Tensor& recv,
                              const std::vector<size_t>& counts) {
  DIVREC_CHECK(send.device().is_cpu() && recv.device().is_cpu(), "backend '", backend(),
               "' gathers CPU tensors only, got ", send.device(), " -> ", recv.device());
  size_t row = allgatherv_row_elems(world(), rank(), send, recv, counts);
  allgatherv(send.data_ptr(), static_cast<size_t>(send.numel()), recv.data_ptr(),
             scale_counts(counts, row), dtype_of(send));
}

void LocalCommunicator::allgather(const void* send, void* recv, size_t count, DType dtype) {
  if (send != recv) std::memmove(recv, send, count * dtype_size(dtype));
}

void LocalCommunicator::allgatherv(const void* send, size_t count, void* recv,
                                   const std::vector<size_t>& counts, DType dtype) {
  DIVREC_CHECK(counts.size() == 1 && counts[0] == count, "allgatherv counts do not match world=1");
  if (send != recv) std::memmove(recv, send, count * dtype_size(dtype));
}

void LocalCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_counts,
                                  void* recv, const std::vector<size_t>& recv_counts,
                                  DType dtype) {
  check_alltoallv_counts(1, send_counts, recv_counts);
  DIVREC_CHECK(send_counts[0] == recv_counts[0], "alltoallv on world=1 sends ", send_counts[0],
               " elements to itself but expects ", recv_counts[0]);
  if (send_counts[0] > 0) std::memcpy(recv, send, send_counts[0] * dtype_size(dtype));
}

void LocalCommunicator::abort(int code) { std::_Exit(code); }

namespace {
CommPtr g_job_comm;
}
void set_job_communicator(CommPtr comm) { g_job_comm = std::move(comm); }
CommPtr job_communicator() { return g_job_comm; }

}  // namespace divrec::core
