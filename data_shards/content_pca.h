// PCA (optionally whitened) of item content vectors, as UniSRec reduces text-encoder outputs
// before its adaptor: centre on the mean of the items that have a vector, project on the top-k
// right singular vectors (LibTorch's linalg SVD, in double precision), optionally scale each
// component to unit variance. Signs are fixed so results are reproducible across libraries.
#pragma once

#include <cstdint>
#include <vector>

namespace divrec::data {

struct PcaResult {
  std::vector<float> projected;            // [n * k] row-major
  std::vector<double> explained_variance;  // [k] variance of each component (ddof = 1)
  double explained_ratio = 0;              // sum of the k variances / total variance
};

// x: [n * d] row-major. Requires 1 <= k <= min(n - 1, d) (with n - 1 below d, the centred data
// has rank n - 1 at most) and, with whiten, non-zero variance in each kept component. Each
// component's sign makes its largest-magnitude loading positive (ties: the first).
PcaResult pca_reduce(const std::vector<float>& x, int64_t n, int64_t d, int64_t k, bool whiten);

}  // namespace divrec::data
