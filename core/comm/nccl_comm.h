// NCCL backend (built when the CUDA toolkit and NCCL are found): the data plane for GPU jobs.
// The unique id travels over the MPI control plane; collectives run on the backend's own CUDA
// stream, which waits (through an event, not a host sync) for the kernels LibTorch queued on the
// legacy default stream before a collective on CUDA tensors. Host buffers and CPU tensors are
// staged through a device buffer; CUDA tensors (from a CUDA build of LibTorch) are reduced in
// place. Errors abort the NCCL communicator first, so a failing rank never leaves the others
// blocked inside NCCL (Horovod's rule).
#pragma once

#include <memory>

#include "core/comm/communicator.h"
#include "core/comm/mpi_comm.h"

namespace divrec::core {

// Number of CUDA devices visible to this process (0 without a driver or GPU).
int cuda_device_count();

class NcclCommunicator : public Communicator {
 public:
  // `control` is the job's control plane: the MPI communicator of the same job, or a
  // LocalCommunicator for a single process started without a launcher. device = local rank %
  // devices.
  explicit NcclCommunicator(std::shared_ptr<Communicator> control, int device = -1);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return control_->rank(); }
  int world() const override { return control_->world(); }
  std::string backend() const override { return "nccl"; }
  int device() const { return device_; }

  void allreduce(void* data, size_t count, DType dtype, ReduceOp op) override;
  void broadcast(void* data, size_t count, DType dtype, int root) override;
  void allgather(const void* send, void* recv, size_t count, DType dtype) override;
  void allgatherv(const void* send, size_t count, void* recv, const std::vector<size_t>& counts,
                  DType dtype) override;
  // Host buffers: through the MPI control plane, like allgatherv.
  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts, DType dtype) override;
  void barrier() override;
  [[noreturn]] void abort(int code) override;
  void allreduce(torch::Tensor& t, ReduceOp op) override;
  void broadcast(torch::Tensor& t, int root) override;
  // CUDA tensors: one ncclSend/ncclRecv per peer with rows to move, in one NCCL group on the
  // backend's stream; CPU tensors: the base implementation (host buffers).
  void alltoallv(const torch::Tensor& send, const std::vector<size_t>& send_counts,
                 torch::Tensor& recv, const std::vector<size_t>& recv_counts) override;
  // CUDA tensors: one ncclBroadcast per rank (root r sends its counts[r] rows) in one NCCL
  // group, as torch.distributed gathers uneven blocks; CPU tensors: the base implementation.
  void allgatherv(const torch::Tensor& send, torch::Tensor& recv,
                  const std::vector<size_t>& counts) override;

 private:
  struct State;
  std::shared_ptr<Communicator> control_;
  std::unique_ptr<State> state_;
  int device_ = 0;
};

}  // namespace divrec::core
