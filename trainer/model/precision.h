// Mixed precision (--precision fp32|bf16): an RAII autocast scope over LibTorch's autocast
// (1.13's set_cpu_enabled / set_autocast_cpu_dtype and 2.x's per-device calls), in which
// matrix products run in bf16 while master weights, optimizer state, gradients and checkpoints
// stay fp32. Code under the scope casts LayerNorm inputs, softmax and losses to fp32 (to_fp32).
#pragma once

#include <torch/types.h>

#include <string>

namespace divrec::model {

enum class Precision { kFp32, kBf16 };

// "fp32" | "bf16"; throws on anything else (names the option).
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// While alive (and p == kBf16), autocast is on for `device`'s type with bf16 as the lower
// precision: linear/matmul/bmm/baddbmm run in bf16 (oneDNN with AVX512-BF16 on CPU, tensor
// cores on CUDA). Nested scopes are fine; the outermost one clears the cast cache on exit, as
// torch.autocast does. Run backward outside the scope (autograd replays the casts).
class AutocastScope {
 public:
  AutocastScope(Precision p, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  torch::ScalarType was_dtype_ = torch::kBFloat16;
};

// Whether autocast is on for `device`'s type (CUDA or else CPU) on this thread.
bool autocast_active(const torch::Device& device);

// t in at least float32: bf16/fp16 are cast up, float32/float64 returned as they are. For
// LayerNorm inputs, softmax and loss logits, which accumulate in fp32 under autocast on every
// device.
inline torch::Tensor to_fp32(const torch::Tensor& t) {
  const auto s = t.scalar_type();
  return s == torch::kBFloat16 || s == torch::kHalf ? t.to(torch::kFloat) : t;
}

}  // namespace divrec::model
