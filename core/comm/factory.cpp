// Backend selection (see factory.h).
#include "core/comm/factory.h"

#include <cstdlib>

#include "core/check.h"
#include "core/comm/mpi_comm.h"
#ifdef DIVREC_WITH_NCCL
#include "core/comm/nccl_comm.h"
#endif

namespace divrec::core {

bool nccl_built() {
#ifdef DIVREC_WITH_NCCL
  return true;
#else
  return false;
#endif
}

namespace {
#ifdef DIVREC_WITH_NCCL
// Started by mpirun / srun (a PMI or PMIx launcher), rather than as a plain process.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

// NCCL's control plane: MPI under a launcher; a single plain process needs none.
CommPtr make_nccl(int* argc, char*** argv) {
  std::shared_ptr<Communicator> control;
  if (launched_by_mpi()) {
    control = std::make_shared<MpiCommunicator>(argc, argv);
  } else {
    control = std::make_shared<LocalCommunicator>();
  }
  return std::make_shared<NcclCommunicator>(control);
}
#endif

CommPtr make_communicator_impl(const std::string& kind, int* argc, char*** argv) {
  if (kind == "local") return std::make_shared<LocalCommunicator>();
  if (kind == "mpi") return std::make_shared<MpiCommunicator>(argc, argv);
  if (kind == "nccl") {
#ifdef DIVREC_WITH_NCCL
    return make_nccl(argc, argv);
#else
    DIVREC_FAIL("--comm nccl: this divrec was built without NCCL (DIVREC_WITH_NCCL=OFF)");
#endif
  }
  DIVREC_CHECK_HINT(kind == "auto", "use auto, mpi, nccl or local", "unknown --comm '", kind, "'");
#ifdef DIVREC_WITH_NCCL
  if (cuda_device_count() > 0) return make_nccl(argc, argv);
#endif
  // MPI even for one process: singleton MPI_Init is cheap and keeps MPI_Abort semantics.
  return std::make_shared<MpiCommunicator>(argc, argv);
}
}  // namespace

CommPtr make_communicator(const std::string& kind, int* argc, char*** argv) {
  auto comm = make_communicator_impl(kind, argc, argv);
  set_job_communicator(comm);
  return comm;
}

}  // namespace divrec::core
