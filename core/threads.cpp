// Thread configuration per rank (see threads.h).
#include "core/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace divrec::core {

namespace {
int env_int(const char* name) {
  const char* s = std::getenv(name);
  if (!s || !*s) return 0;
  return std::max(0, std::atoi(s));
}
}  // namespace

int local_world_size() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", "MPI_LOCALNRANKS"}) {
    if (int n = env_int(v)) return n;
  }
  return 1;
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  for (const char* v : {"DIVREC_THREADS", "SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"}) {
    if (int n = env_int(v)) return n;
  }
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / local_world_size());
}

void configure_threads(int threads) {
  threads = std::max(1, threads);
  torch::set_num_threads(threads);
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(threads);
  }
}

int blas_threads() {
  using GetFn = int (*)();
  if (auto fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
    return fn();
  }
  return -1;
}

}  // namespace divrec::core
