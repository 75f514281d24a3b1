// Shared pieces of the Communicator: dtype helpers, tensor collectives via host buffers, and
// the world = 1 backend.
#include "core/comm/communicator.h"

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

void LocalCommunicator::allgather(const void* send, void* recv, size_t count, DType dtype) {
  if (send != recv) std::memmove(recv, send, count * dtype_size(dtype));
}

void LocalCommunicator::allgatherv(const void* send, size_t count, void* recv,
                                   const std::vector<size_t>& counts, DType dtype) {
  DIVREC_CHECK(counts.size() == 1 && counts[0] == count, "allgatherv counts do not match world=1");
  if (send != recv) std::memmove(recv, send, count * dtype_size(dtype));
}

void LocalCommunicator::abort(int code) { std::_Exit(code); }

namespace {
CommPtr g_job_comm;
}
void set_job_communicator(CommPtr comm) { g_job_comm = std::move(comm); }
CommPtr job_communicator() { return g_job_comm; }

}  // namespace divrec::core
