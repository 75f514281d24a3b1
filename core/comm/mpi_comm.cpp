// MPI backend (see mpi_comm.h). Counts above INT_MAX are sent in chunks; so are alltoallv
// blocks, point to point.
#include "core/comm/mpi_comm.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

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
constexpr int kAlltoallvTag = 7301;  // pairwise alltoallv messages; collectives never match it

// MPI_Alltoallv's int counts and displacements for `counts`; false when a block is larger than
// max_block or an offset is past INT_MAX.
bool to_int_blocks(const std::vector<size_t>& counts, size_t max_block, std::vector<int>* c,
                   std::vector<int>* displs) {
  auto offsets = block_offsets(counts);
  c->resize(counts.size());
  displs->resize(counts.size());
  for (size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] > max_block || offsets[r] > static_cast<size_t>(INT_MAX)) return false;
    (*c)[r] = static_cast<int>(counts[r]);
    (*displs)[r] = static_cast<int>(offsets[r]);
  }
  return true;
}

}  // namespace

bool MpiCommunicator::launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_ID"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

MpiCommunicator::MpiCommunicator(int* argc, char*** argv) : alltoallv_max_block_(kMaxChunk) {
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

void MpiCommunicator::set_alltoallv_max_block(size_t elements) {
  DIVREC_CHECK(elements >= 1 && elements <= kMaxChunk, "alltoallv max block must be in [1, ",
               kMaxChunk, "], got ", elements);
  alltoallv_max_block_ = elements;
}

void MpiCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_counts,
                                void* recv, const std::vector<size_t>& recv_counts, DType dtype) {
  check_alltoallv_counts(world_, send_counts, recv_counts);
  std::vector<int> sc, sd, rc, rd;
  // Each rank sees only its own blocks, and all ranks must call the same kind of operation,
  // so they agree (MIN) on whether everyone's blocks fit MPI_Alltoallv.
  int fits = to_int_blocks(send_counts, alltoallv_max_block_, &sc, &sd) &&
             to_int_blocks(recv_counts, alltoallv_max_block_, &rc, &rd);
  MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &fits, 1, MPI_INT, MPI_MIN, comm_));
  if (fits) {
    MPI_CHECK(MPI_Alltoallv(send, sc.data(), sd.data(), to_mpi(dtype), recv, rc.data(), rd.data(),
                            to_mpi(dtype), comm_));
  } else {
    alltoallv_pairwise(static_cast<const char*>(send), send_counts, static_cast<char*>(recv),
                       recv_counts, dtype);
  }
}

// Step i sends to rank + i and receives from rank - i (Open MPI's pairwise algorithm), each
// block cut into messages of at most alltoallv_max_block_ elements. Sender and receiver agree
// on a block's size, so they cut it alike, and same-tag messages between two ranks arrive in
// order. Each received message's size is checked against recv_counts.
void MpiCommunicator::alltoallv_pairwise(const char* send, const std::vector<size_t>& send_counts,
                                         char* recv, const std::vector<size_t>& recv_counts,
                                         DType dtype) {
  size_t es = dtype_size(dtype);
  MPI_Datatype type = to_mpi(dtype);
  auto send_off = block_offsets(send_counts);
  auto recv_off = block_offsets(recv_counts);
  const size_t chunk = alltoallv_max_block_;
  for (int step = 0; step < world_; ++step) {
    int to = (rank_ + step) % world_;
    int from = (rank_ - step + world_) % world_;
    std::vector<MPI_Request> reqs;
    std::vector<int> expected;  // element count of each receive, in posting order
    for (size_t off = 0; off < recv_counts[from]; off += chunk) {
      expected.push_back(static_cast<int>(std::min(chunk, recv_counts[from] - off)));
      reqs.emplace_back();
      MPI_CHECK(MPI_Irecv(recv + (recv_off[from] + off) * es, expected.back(), type, from,
                          kAlltoallvTag, comm_, &reqs.back()));
    }
    for (size_t off = 0; off < send_counts[to]; off += chunk) {
      int n = static_cast<int>(std::min(chunk, send_counts[to] - off));
      reqs.emplace_back();
      MPI_CHECK(MPI_Isend(send + (send_off[to] + off) * es, n, type, to, kAlltoallvTag, comm_,
                          &reqs.back()));
    }
    std::vector<MPI_Status> status(reqs.size());
    MPI_CHECK(MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), status.data()));
    for (size_t i = 0; i < expected.size(); ++i) {
      int got = 0;
      MPI_CHECK(MPI_Get_count(&status[i], type, &got));
      DIVREC_CHECK_HINT(got == expected[i], "recv_counts[r] must equal rank r's send count here",
                        "alltoallv: message ", i, " from rank ", from, " has ", got,
                        " elements, expected ", expected[i]);
    }
  }
}

void MpiCommunicator::barrier() { MPI_CHECK(MPI_Barrier(comm_)); }

void MpiCommunicator::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);
}

}  // namespace divrec::core
