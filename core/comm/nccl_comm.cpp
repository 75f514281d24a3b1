// NCCL backend (see nccl_comm.h).
#include "core/comm/nccl_comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/check.h"

#define CUDA_CHECK(call)                                                                    \
  do {                                                                                      \
    cudaError_t divrec_cuda_rc_ = (call);                                                   \
    if (divrec_cuda_rc_ != cudaSuccess) {                                                   \
      throw ::divrec::Error(__FILE__, __LINE__,                                             \
                            ::divrec::detail::concat(#call " failed: ",                     \
                                                     cudaGetErrorString(divrec_cuda_rc_)),  \
                            "is a GPU visible (CUDA_VISIBLE_DEVICES) and the driver loaded?"); \
    }                                                                                       \
  } while (0)

namespace divrec::core {

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  cudaEvent_t torch_done = nullptr;  // marks LibTorch's queued work before a tensor collective
  void* staging = nullptr;
  size_t staging_bytes = 0;

  void* ensure_staging(size_t bytes) {
    if (bytes > staging_bytes) {
      if (staging) cudaFree(staging);
      staging = nullptr;
      CUDA_CHECK(cudaMalloc(&staging, bytes));
      staging_bytes = bytes;
    }
    return staging;
  }

  // Makes `stream` wait for every kernel queued so far on the legacy default stream (LibTorch's
  // current stream unless a caller sets another), without blocking the host or later kernels:
  // a collective on CUDA tensors never reads a tensor an unfinished kernel is still writing,
  // and GradSync's all-reduces still overlap the backward pass.
  void wait_for_default_stream() {
    CUDA_CHECK(cudaEventRecord(torch_done, cudaStreamLegacy));
    CUDA_CHECK(cudaStreamWaitEvent(stream, torch_done, 0));
  }

  // The frame of every collective on CUDA tensors of device `device`: the NCCL stream ordered
  // after LibTorch's queued kernels, `enqueue()` (its NCCL calls in one group when `group`),
  // then the host waits for the stream. Defined after NCCL_CHECK.
  template <class Enqueue>
  void run(int device, bool group, Enqueue&& enqueue);
};

// NCCL_CHECK aborts the NCCL communicator before throwing, so peers are released.
#define NCCL_CHECK(call)                                                                  \
  do {                                                                                    \
    ncclResult_t divrec_nccl_rc_ = (call);                                                \
    if (divrec_nccl_rc_ != ncclSuccess) {                                                 \
      if (state_ && state_->comm) ncclCommAbort(state_->comm);                            \
      if (state_) state_->comm = nullptr;                                                 \
      throw ::divrec::Error(__FILE__, __LINE__,                                           \
                            ::divrec::detail::concat(#call " failed: ",                   \
                                                     ncclGetErrorString(divrec_nccl_rc_)), \
                            "set NCCL_DEBUG=INFO for details");                           \
    }                                                                                     \
  } while (0)

template <class Enqueue>
void NcclCommunicator::State::run(int device, bool group, Enqueue&& enqueue) {
  State* state_ = this;  // what NCCL_CHECK aborts on failure
  CUDA_CHECK(cudaSetDevice(device));
  wait_for_default_stream();
  if (group) NCCL_CHECK(ncclGroupStart());
  enqueue();
  if (group) NCCL_CHECK(ncclGroupEnd());
  CUDA_CHECK(cudaStreamSynchronize(stream));
}

namespace {

ncclDataType_t to_nccl(DType t) {
  switch (t) {
    case DType::kFloat32: return ncclFloat32;
    case DType::kFloat64: return ncclFloat64;
    case DType::kInt32: return ncclInt32;
    case DType::kInt64: return ncclInt64;
    case DType::kUInt8: return ncclUint8;
  }
  return ncclFloat32;
}

ncclRedOp_t to_nccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMin: return ncclMin;
    case ReduceOp::kMax: return ncclMax;
  }
  return ncclSum;
}

int local_rank_from_env(int fallback) {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK"}) {
    if (const char* s = std::getenv(v)) return std::atoi(s);
  }
  return fallback;
}

}  // namespace

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

NcclCommunicator::NcclCommunicator(std::shared_ptr<Communicator> control, int device)
    : control_(std::move(control)), state_(std::make_unique<State>()) {
  int devices = cuda_device_count();
  DIVREC_CHECK_HINT(devices > 0, "use --comm mpi on CPU-only machines",
                    "the NCCL backend needs a CUDA GPU, none is visible");
  device_ = device >= 0 ? device : local_rank_from_env(control_->rank()) % devices;
  CUDA_CHECK(cudaSetDevice(device_));
  // Non-blocking, so the legacy default stream's later kernels do not wait for collectives;
  // tensor collectives order themselves after LibTorch's work with wait_for_default_stream,
  // and every collective ends with a stream synchronize.
  CUDA_CHECK(cudaStreamCreateWithFlags(&state_->stream, cudaStreamNonBlocking));
  CUDA_CHECK(cudaEventCreateWithFlags(&state_->torch_done, cudaEventDisableTiming));
  ncclUniqueId id;
  if (control_->rank() == 0) NCCL_CHECK(ncclGetUniqueId(&id));
  control_->broadcast(&id, sizeof(id), DType::kUInt8, 0);
  NCCL_CHECK(ncclCommInitRank(&state_->comm, control_->world(), id, control_->rank()));
}

NcclCommunicator::~NcclCommunicator() {
  if (!state_) return;
  if (state_->comm) ncclCommDestroy(state_->comm);
  if (state_->staging) cudaFree(state_->staging);
  if (state_->torch_done) cudaEventDestroy(state_->torch_done);
  if (state_->stream) cudaStreamDestroy(state_->stream);
}

void NcclCommunicator::allreduce(void* data, size_t count, DType dtype, ReduceOp op) {
  size_t bytes = count * dtype_size(dtype);
  if (bytes == 0) return;
  void* dev = state_->ensure_staging(bytes);
  CUDA_CHECK(cudaMemcpyAsync(dev, data, bytes, cudaMemcpyHostToDevice, state_->stream));
  NCCL_CHECK(ncclAllReduce(dev, dev, count, to_nccl(dtype), to_nccl(op), state_->comm,
                           state_->stream));
  CUDA_CHECK(cudaMemcpyAsync(data, dev, bytes, cudaMemcpyDeviceToHost, state_->stream));
  CUDA_CHECK(cudaStreamSynchronize(state_->stream));
}

void NcclCommunicator::broadcast(void* data, size_t count, DType dtype, int root) {
  size_t bytes = count * dtype_size(dtype);
  if (bytes == 0) return;
  void* dev = state_->ensure_staging(bytes);
  CUDA_CHECK(cudaMemcpyAsync(dev, data, bytes, cudaMemcpyHostToDevice, state_->stream));
  NCCL_CHECK(ncclBroadcast(dev, dev, count, to_nccl(dtype), root, state_->comm, state_->stream));
  CUDA_CHECK(cudaMemcpyAsync(data, dev, bytes, cudaMemcpyDeviceToHost, state_->stream));
  CUDA_CHECK(cudaStreamSynchronize(state_->stream));
}

void NcclCommunicator::allgather(const void* send, void* recv, size_t count, DType dtype) {
  size_t bytes = count * dtype_size(dtype);
  size_t total = bytes * static_cast<size_t>(world());
  if (total == 0) return;
  auto* dev = static_cast<char*>(state_->ensure_staging(total));
  CUDA_CHECK(cudaMemcpyAsync(dev + bytes * rank(), send, bytes, cudaMemcpyHostToDevice,
                             state_->stream));
  NCCL_CHECK(ncclAllGather(dev + bytes * rank(), dev, count, to_nccl(dtype), state_->comm,
                           state_->stream));
  CUDA_CHECK(cudaMemcpyAsync(recv, dev, total, cudaMemcpyDeviceToHost, state_->stream));
  CUDA_CHECK(cudaStreamSynchronize(state_->stream));
}

void NcclCommunicator::allgatherv(const void* send, size_t count, void* recv,
                                  const std::vector<size_t>& counts, DType dtype) {
  // Variable sizes are a control-plane job (metadata, id lists): use MPI.
  control_->allgatherv(send, count, recv, counts, dtype);
}

void NcclCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_counts,
                                 void* recv, const std::vector<size_t>& recv_counts,
                                 DType dtype) {
  control_->alltoallv(send, send_counts, recv, recv_counts, dtype);
}

void NcclCommunicator::barrier() {
  CUDA_CHECK(cudaStreamSynchronize(state_->stream));
  control_->barrier();
}

void NcclCommunicator::abort(int code) {
  if (state_ && state_->comm) {
    ncclCommAbort(state_->comm);
    state_->comm = nullptr;
  }
  control_->abort(code);
  std::_Exit(code == 0 ? 1 : code);  // not reached: MPI_Abort ends the process
}

void NcclCommunicator::allreduce(torch::Tensor& t, ReduceOp op) {
  DIVREC_CHECK(t.is_contiguous(), "allreduce needs a contiguous tensor");
  if (!t.device().is_cuda()) {
    Communicator::allreduce(t, op);  // staged through the device buffer
    return;
  }
  state_->run(t.device().index(), false, [&] {
    NCCL_CHECK(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()),
                             to_nccl(dtype_of(t)), to_nccl(op), state_->comm, state_->stream));
  });
}

void NcclCommunicator::broadcast(torch::Tensor& t, int root) {
  DIVREC_CHECK(t.is_contiguous(), "broadcast needs a contiguous tensor");
  if (!t.device().is_cuda()) {
    Communicator::broadcast(t, root);
    return;
  }
  state_->run(t.device().index(), false, [&] {
    NCCL_CHECK(ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()),
                             to_nccl(dtype_of(t)), root, state_->comm, state_->stream));
  });
}

void NcclCommunicator::alltoallv(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                                 torch::Tensor& recv, const std::vector<size_t>& recv_counts) {
  if (!send.device().is_cuda() && !recv.device().is_cuda()) {
    Communicator::alltoallv(send, send_counts, recv, recv_counts);  // via the MPI control plane
    return;
  }
  DIVREC_CHECK(send.device() == recv.device(), "alltoallv needs send and recv on one device, got ",
               send.device(), " and ", recv.device());
  check_alltoallv_counts(world(), send_counts, recv_counts);
  size_t row = alltoallv_row_elems(send, send_counts, recv, recv_counts);
  auto send_off = block_offsets(scale_counts(send_counts, row));
  auto recv_off = block_offsets(scale_counts(recv_counts, row));
  size_t es = dtype_size(dtype_of(send));
  ncclDataType_t type = to_nccl(dtype_of(send));
  auto* src = static_cast<const char*>(send.data_ptr());
  auto* dst = static_cast<char*>(recv.data_ptr());
  state_->run(send.device().index(), true, [&] {
    for (int peer = 0; peer < world(); ++peer) {
      size_t n_send = send_off[peer + 1] - send_off[peer];
      size_t n_recv = recv_off[peer + 1] - recv_off[peer];
      if (n_send > 0) {
        NCCL_CHECK(
            ncclSend(src + send_off[peer] * es, n_send, type, peer, state_->comm, state_->stream));
      }
      if (n_recv > 0) {
        NCCL_CHECK(
            ncclRecv(dst + recv_off[peer] * es, n_recv, type, peer, state_->comm, state_->stream));
      }
    }
  });
}

void NcclCommunicator::allgatherv(const torch::Tensor& send, torch::Tensor& recv,
                                  const std::vector<size_t>& counts) {
  if (!send.device().is_cuda() && !recv.device().is_cuda()) {
    Communicator::allgatherv(send, recv, counts);  // via the MPI control plane
    return;
  }
  size_t row = allgatherv_row_elems(world(), rank(), send, recv, counts);
  auto off = block_offsets(scale_counts(counts, row));
  size_t es = dtype_size(dtype_of(send));
  ncclDataType_t type = to_nccl(dtype_of(send));
  auto* dst = static_cast<char*>(recv.data_ptr());
  state_->run(send.device().index(), true, [&] {
    for (int root = 0; root < world(); ++root) {
      size_t n = off[root + 1] - off[root];
      if (n == 0) continue;  // every rank sees the same counts, so every rank skips the same roots
      char* block = dst + off[root] * es;  // non-roots pass it as sendbuff too (unused there)
      const void* src = root == rank() ? send.data_ptr() : block;
      NCCL_CHECK(ncclBroadcast(src, block, n, type, root, state_->comm, state_->stream));
    }
  });
}

}  // namespace divrec::core
