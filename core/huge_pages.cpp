// alloc_huge / empty_huge (see huge_pages.h).
#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>

#include "core/check.h"

namespace divrec::core {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

void* alloc_huge(size_t bytes) {
  DIVREC_CHECK(bytes > 0, "alloc_huge: zero bytes");
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  DIVREC_CHECK_HINT(p != nullptr, "use a machine with more memory (or --score-precision bf16)",
                    "cannot allocate ", rounded >> 20, " MiB");
  // Advice only: EINVAL where THP is compiled out, nothing to do about it.
  if (rounded >= kHugePageMinBytes) (void)::madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

torch::Tensor empty_huge(const std::vector<int64_t>& shape, torch::ScalarType dtype) {
  int64_t n = 1;
  for (int64_t s : shape) {
    DIVREC_CHECK(s >= 0, "empty_huge: negative size in shape");
    n *= s;
  }
  const size_t bytes = static_cast<size_t>(n) * c10::elementSize(dtype);
  if (bytes < kHugePageMinBytes) return torch::empty(shape, dtype);
  void* p = alloc_huge(bytes);
  return torch::from_blob(
      p, shape, [](void* q) { std::free(q); }, torch::dtype(dtype));
}

}  // namespace divrec::core
