// Device choice for training and evaluation (see device.h).
#include "trainer/model/device.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <cstdlib>

#include "core/check.h"

namespace divrec::model {

int local_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK"}) {
    if (const char* s = std::getenv(v)) return std::atoi(s);
  }
  return 0;
}

torch::Device resolve_device(const std::string& spec) {
  DIVREC_CHECK_HINT(spec == "auto" || spec == "cpu" || spec == "cuda", "use auto, cpu or cuda",
                    "--device '", spec, "' is unknown");
  const int64_t gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (spec == "cpu" || (spec == "auto" && gpus == 0)) return torch::Device(torch::kCPU);
  DIVREC_CHECK_HINT(torch::cuda::is_available() && gpus > 0,
                    "build against a CUDA LibTorch (scripts/build-cuda.sh) on a machine with a "
                    "GPU, or use --device cpu",
                    "--device cuda: this LibTorch has no CUDA support or no GPU is visible (",
                    gpus, " devices; CUDA_VISIBLE_DEVICES=",
                    std::getenv("CUDA_VISIBLE_DEVICES") ? std::getenv("CUDA_VISIBLE_DEVICES")
                                                        : "unset",
                    ")");
  // cuBLAS reads the workspace setting when its handle is created: before the first product.
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank() % gpus));
}

std::string device_name(const torch::Device& device) {
  return device.is_cuda() ? "cuda:" + std::to_string(device.index()) : "cpu";
}

}  // namespace divrec::model
