// Backend selection (see factory.h).
#include "core/comm/factory.h"

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
CommPtr make_communicator_impl(const std::string& kind, int* argc, char*** argv) {
  if (kind == "local") return std::make_shared<LocalCommunicator>();
  if (kind == "mpi") return std::make_shared<MpiCommunicator>(argc, argv);
  if (kind == "nccl") {
#ifdef DIVREC_WITH_NCCL
    return std::make_shared<NcclCommunicator>(std::make_shared<MpiCommunicator>(argc, argv));
#else
    DIVREC_FAIL("--comm nccl: this divrec was built without NCCL (DIVREC_WITH_NCCL=OFF)");
#endif
  }
  DIVREC_CHECK_HINT(kind == "auto", "use auto, mpi, nccl or local", "unknown --comm '", kind, "'");
#ifdef DIVREC_WITH_NCCL
  if (cuda_device_count() > 0) {
    return std::make_shared<NcclCommunicator>(std::make_shared<MpiCommunicator>(argc, argv));
  }
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
