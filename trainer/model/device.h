// Where a rank computes (--device auto|cpu|cuda). CUDA ranks take the GPU of their local rank
// (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID or LOCAL_RANK) modulo the visible GPUs, the rule
// the NCCL communicator uses too, so a rank's tensors and its NCCL communicator share a GPU.
#pragma once

#include <torch/types.h>

#include <string>

namespace divrec::model {

// This process's rank among the processes of its node (0 when no launcher variable is set).
int local_rank();

// "cpu" -> CPU; "cuda" -> cuda:(local_rank() % visible GPUs); "auto" -> cuda when LibTorch was
// built with CUDA and a GPU is visible, else CPU. On CUDA it also turns on deterministic
// algorithms (warn-only) and cuBLAS's deterministic workspace (CUBLAS_WORKSPACE_CONFIG
// =:4096:8 unless set), so a resumed run replays the same arithmetic.
// Throws: an unknown spec; "cuda" with a CPU-only LibTorch or no visible GPU (hint names the
// CUDA build script).
torch::Device resolve_device(const std::string& spec);

// "cpu" or "cuda:N", for logs and reports.
std::string device_name(const torch::Device& device);

}  // namespace divrec::model
