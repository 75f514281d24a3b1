// MPI backend (see mpi_comm.h). Counts above INT_MAX are sent in chunks.
#include "core/comm/mpi_comm.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace divrec::core {

namespace {

MPI_Datatype to_mpi(DType t) {
  switch (t) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kInt32: return MPI_INT32_T;
    case DType::kInt64: return MPI_INT64_T;
    case DType::kUInt8: return MPI_UINT8_T;
  }
  return MPI_DATATYPE_NULL;
}

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return MPI_SUM;
    case ReduceOp::kMin: return MPI_MIN;
    case ReduceOp::kMax: return MPI_MAX;
  }
  return MPI_OP_NULL;
}

constexpr size_t kMaxChunk = static_cast<size_t>(INT_MAX) / 8;

}  // namespace

bool MpiCommunicator::launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_ID"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

MpiCommunicator::MpiCommunicator(int* argc, char*** argv) {
  int initialized = 0;
  MPI_CHECK(MPI_Initialized(&initialized));
  if (!initialized) {
    int provided = 0;
    MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
    DIVREC_CHECK_HINT(provided >= MPI_THREAD_FUNNELED, "rebuild Open MPI with thread support",
                      "MPI provides thread level ", provided, ", divrec needs FUNNELED or more");
    owns_init_ = true;
  }
  MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
  MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &world_));
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (owns_init_) MPI_Finalize();
}

void MpiCommunicator::allreduce(void* data, size_t count, DType dtype, ReduceOp op) {
  auto* p = static_cast<char*>(data);
  size_t esize = dtype_size(dtype);
  for (size_t off = 0; off < count; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, count - off));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + off * esize, n, to_mpi(dtype), to_mpi(op), comm_));
  }
}

void MpiCommunicator::broadcast(void* data, size_t count, DType dtype, int root) {
  DIVREC_CHECK(root >= 0 && root < world_, "broadcast root ", root, " out of range");
  auto* p = static_cast<char*>(data);
  size_t esize = dtype_size(dtype);
  for (size_t off = 0; off < count; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, count - off));
    MPI_CHECK(MPI_Bcast(p + off * esize, n, to_mpi(dtype), root, comm_));
  }
}

void MpiCommunicator::allgather(const void* send, void* recv, size_t count, DType dtype) {
  DIVREC_CHECK(count <= kMaxChunk, "allgather of ", count, " elements per rank is too large");
  MPI_CHECK(MPI_Allgather(send, static_cast<int>(count), to_mpi(dtype), recv,
                          static_cast<int>(count), to_mpi(dtype), comm_));
}

void MpiCommunicator::allgatherv(const void* send, size_t count, void* recv,
                                 const std::vector<size_t>& counts, DType dtype) {
  DIVREC_CHECK(static_cast<int>(counts.size()) == world_, "allgatherv needs one count per rank");
  DIVREC_CHECK(counts[rank_] == count, "allgatherv: counts[", rank_, "]=", counts[rank_],
               " but this rank sends ", count);
  std::vector<int> c(world_), displs(world_);
  size_t total = 0;
  for (int r = 0; r < world_; ++r) {
    DIVREC_CHECK(total <= static_cast<size_t>(INT_MAX), "allgatherv result too large");
    c[r] = static_cast<int>(counts[r]);
    displs[r] = static_cast<int>(total);
    total += counts[r];
  }
  DIVREC_CHECK(total <= static_cast<size_t>(INT_MAX), "allgatherv result too large");
  MPI_CHECK(MPI_Allgatherv(send, static_cast<int>(count), to_mpi(dtype), recv, c.data(),
                           displs.data(), to_mpi(dtype), comm_));
}

void MpiCommunicator::barrier() { MPI_CHECK(MPI_Barrier(comm_)); }

void MpiCommunicator::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);
}

}  // namespace divrec::core
