// Autocast scope over LibTorch 1.13 and 2.x (see precision.h).
#include "trainer/model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/check.h"

// LibTorch 2.4 replaced the per-device autocast calls with ones taking a device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DIVREC_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace divrec::model {

namespace {
bool autocast_enabled(bool cuda) {
#ifdef DIVREC_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
void set_autocast(bool cuda, bool enabled) {
#ifdef DIVREC_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
#else
  if (cuda) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}
torch::ScalarType autocast_dtype(bool cuda) {
#ifdef DIVREC_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
void set_autocast_dtype(bool cuda, torch::ScalarType t) {
#ifdef DIVREC_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t);
#else
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
#endif
}
}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  throw Error(__FILE__, __LINE__, detail::concat("--precision '", name, "' is unknown"),
              "use fp32 or bf16");
}

const char* precision_name(Precision p) { return p == Precision::kBf16 ? "bf16" : "fp32"; }

bool autocast_active(const torch::Device& device) { return autocast_enabled(device.is_cuda()); }

AutocastScope::AutocastScope(Precision p, const torch::Device& device) {
  if (p != Precision::kBf16) return;
  active_ = true;
  cuda_ = device.is_cuda();
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = autocast_dtype(cuda_);
  set_autocast(cuda_, true);
  set_autocast_dtype(cuda_, torch::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, was_enabled_);
  set_autocast_dtype(cuda_, was_dtype_);
}

}  // namespace divrec::model
