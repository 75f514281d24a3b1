// Catalog-sized buffers (item matrices, score panels: GBs at 10 M items) backed by transparent
// huge pages where the kernel allows them (madvise mode): first touch faults 2 MiB at a time
// instead of 4 KiB, which made most of a 10 M-item artifact's load time on a 4 KiB-page VM.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace divrec::core {

// Below this size allocations are left to the ordinary allocators.
inline constexpr size_t kHugePageMinBytes = size_t{64} << 20;

// `bytes` (> 0) of uninitialised memory, 2 MiB aligned, with madvise(MADV_HUGEPAGE) when at
// least kHugePageMinBytes (a hint: ignored where THP is off). Free with std::free. Throws
// divrec::Error naming the size when the allocation fails.
void* alloc_huge(size_t bytes);

// An uninitialised contiguous CPU tensor of `shape` and `dtype` in alloc_huge memory (freed with
// the tensor's storage).
torch::Tensor empty_huge(const std::vector<int64_t>& shape, torch::ScalarType dtype);

}  // namespace divrec::core
