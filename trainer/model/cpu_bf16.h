// Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16), for `--precision bf16`
// with `--device cpu`: without it oneDNN emulates the bf16 products and autocast makes a step
// much slower instead of faster (docs/results.md, "bf16 autocast on this CPU").
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>

#include "trainer/model/precision.h"

namespace divrec::model {

// From the text of /proc/cpuinfo: true when a "flags" line lists avx512_bf16 or amx_bf16
// (Linux's names for CPUID AVX512_BF16 and AMX-BF16).
bool cpuinfo_has_native_bf16(const std::string& cpuinfo);

// This machine's /proc/cpuinfo (read once; false when it cannot be read).
bool cpu_has_native_bf16();

// The warning `divrec train` logs for `precision` on `device` given `native_bf16` (the CPU's
// support; nullopt = cpu_has_native_bf16(), read only for bf16 on the CPU); "" when there is
// nothing to say (fp32, CUDA, or a CPU with native bf16).
std::string bf16_cpu_warning(Precision precision, const torch::Device& device,
                             std::optional<bool> native_bf16 = std::nullopt);

}  // namespace divrec::model
