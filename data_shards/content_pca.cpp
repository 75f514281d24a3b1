// pca_reduce (see content_pca.h): thin SVD of the centred data with torch::linalg_svd.
#include "data_shards/content_pca.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace divrec::data {

PcaResult pca_reduce(const std::vector<float>& x, int64_t n, int64_t d, int64_t k, bool whiten) {
  DIVREC_CHECK(static_cast<int64_t>(x.size()) == n * d, "pca: ", x.size(), " values for ", n, " x ",
               d);
  DIVREC_CHECK_HINT(k >= 1 && k <= std::min(n - 1, d),
                    "choose --pca between 1 and min(items with a vector - 1, dimension)", "--pca ",
                    k, " with ", n, " vectors of dimension ", d);
  torch::NoGradGuard no_grad;
  auto X =
      torch::from_blob(const_cast<float*>(x.data()), {n, d}, torch::kFloat32).to(torch::kFloat64);
  X = X - X.mean(0, /*keepdim=*/true);
  auto [U, S, Vh] = torch::linalg_svd(X, /*full_matrices=*/false);
  auto V = Vh.narrow(0, 0, k).t().contiguous();  // [d, k] principal axes
  // Sign: the largest-|loading| entry of each axis positive (argmax gives the first on ties).
  auto idx = V.abs().argmax(0);
  auto signs = torch::sign(V.gather(0, idx.unsqueeze(0))).squeeze(0);
  signs = torch::where(signs.eq(0), torch::ones_like(signs), signs);
  V = V * signs;
  auto var = S.narrow(0, 0, k).pow(2) / static_cast<double>(n - 1);
  auto total = S.pow(2).sum().item<double>() / static_cast<double>(n - 1);
  auto Y = X.matmul(V);
  if (whiten) {
    const double top = var[0].item<double>();
    for (int64_t j = 0; j < k; ++j) {
      DIVREC_CHECK_HINT(var[j].item<double>() > 1e-12 * std::max(top, 1e-300),
                        "choose a smaller --pca, or drop --whiten", "--whiten: component ", j,
                        " has zero variance (the vectors span only ", j, " dimensions)");
    }
    Y = Y / var.sqrt();
  }
  PcaResult r;
  auto Yf = Y.to(torch::kFloat32).contiguous();
  r.projected.assign(Yf.data_ptr<float>(), Yf.data_ptr<float>() + n * k);
  auto vd = var.contiguous();
  r.explained_variance.assign(vd.data_ptr<double>(), vd.data_ptr<double>() + k);
  r.explained_ratio = total > 0 ? var.sum().item<double>() / total : 0.0;
  return r;
}

}  // namespace divrec::data
