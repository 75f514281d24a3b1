// Picks the communicator backend for this process: "auto" (NCCL when GPUs are visible and the
// backend was built, else MPI when launched by mpirun/srun, else local), "mpi", "nccl", "local".
#pragma once

#include <string>

#include "core/comm/communicator.h"

namespace divrec::core {

bool nccl_built();
CommPtr make_communicator(const std::string& kind, int* argc = nullptr, char*** argv = nullptr);

}  // namespace divrec::core
