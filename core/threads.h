// Threads per rank: torch intra-op threads and OpenBLAS threads, chosen from the environment
// (DIVREC_THREADS, SLURM_CPUS_PER_TASK, OMP_NUM_THREADS) or cores / local ranks.
// docs/results.md records the measurement behind the default (both pools = the same count).
#pragma once

namespace divrec::core {

// Ranks of this job on this node (OMPI_COMM_WORLD_LOCAL_SIZE, SLURM_NTASKS_PER_NODE), else 1.
int local_world_size();
// Threads this rank should use: explicit > 0 wins; then the environment; then cores/local ranks.
int resolve_threads(int requested);
// Sets torch intra-op threads and OpenBLAS threads (found at run time; absent is fine).
void configure_threads(int threads);
// OpenBLAS's own thread count, or -1 when the BLAS is not OpenBLAS.
int blas_threads();

}  // namespace divrec::core
