// MPI backend: RAII MPI_Init/Finalize, collectives on host buffers and CPU tensors. MPI is also
// the control plane for NCCL (unique-id broadcast) and for job-wide abort.
#pragma once

#include <mpi.h>

#include "core/comm/communicator.h"

namespace divrec::core {

class MpiCommunicator : public Communicator {
 public:
  // Initialises MPI (thread level MULTIPLE if available, else FUNNELED) if nobody did yet.
  // The communicator is a dup of MPI_COMM_WORLD, with MPI_ERRORS_RETURN so errors throw.
  MpiCommunicator(int* argc = nullptr, char*** argv = nullptr);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world() const override { return world_; }
  std::string backend() const override { return "mpi"; }

  void allreduce(void* data, size_t count, DType dtype, ReduceOp op) override;
  void broadcast(void* data, size_t count, DType dtype, int root) override;
  void allgather(const void* send, void* recv, size_t count, DType dtype) override;
  void allgatherv(const void* send, size_t count, void* recv, const std::vector<size_t>& counts,
                  DType dtype) override;
  // MPI_Alltoallv when every block and offset fits its int counts, else (on every rank alike:
  // one tiny allreduce agrees on the path) pairwise point-to-point messages of <= max block.
  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts, DType dtype) override;
  void barrier() override;
  [[noreturn]] void abort(int code) override;
  using Communicator::allgatherv;
  using Communicator::allreduce;
  using Communicator::alltoallv;
  using Communicator::broadcast;

  // Largest block (elements) alltoallv sends as one MPI message; default INT_MAX / 8, so every
  // message stays under 2 GiB. Tests lower it to run the large-message path on small data.
  // Every rank must set the same value.
  void set_alltoallv_max_block(size_t elements);
  size_t alltoallv_max_block() const { return alltoallv_max_block_; }

  MPI_Comm raw() const { return comm_; }
  // True when this process was started by mpirun/srun with more than one rank, or MPI env set.
  static bool launched_by_mpi();

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int world_ = 1;
  bool owns_init_ = false;
  size_t alltoallv_max_block_;

  void alltoallv_pairwise(const char* send, const std::vector<size_t>& send_counts, char* recv,
                          const std::vector<size_t>& recv_counts, DType dtype);
};

}  // namespace divrec::core
