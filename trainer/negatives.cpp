// NegativeSampler (see negatives.h). All sampling is vectorised torch ops on the CPU with the
// sampler's own generator, so a seed fixes every draw.
#include "trainer/negatives.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/check.h"

namespace divrec::trainer {

NegativeSampler::NegativeSampler(const std::vector<int64_t>& popularity, uint64_t seed,
                                 double power, double smoothing)
    : num_items_(static_cast<int64_t>(popularity.size())),
      generator_(at::detail::createCPUGenerator(seed)),
      shared_generator_(at::detail::createCPUGenerator(seed)) {
  DIVREC_CHECK(num_items_ >= 2, "negative sampler: needs at least 2 items, got ", num_items_);
  DIVREC_CHECK(power >= 0.0 && smoothing >= 0.0,
               "negative sampler: power and smoothing must be >= 0, got ", power, ", ", smoothing);
  auto weight = torch::empty({num_items_}, torch::kFloat64);
  auto* w = weight.data_ptr<double>();
  for (int64_t i = 0; i < num_items_; ++i) {
    DIVREC_CHECK(popularity[i] >= 0, "negative sampler: item ", i, " has negative popularity ",
                 popularity[i]);
    w[i] = std::pow(static_cast<double>(popularity[i]) + smoothing, power);
  }
  const double total = weight.sum().item<double>();
  DIVREC_CHECK(total > 0.0 && std::isfinite(total), "negative sampler: popularity weights sum to ",
               total, "; use smoothing > 0 when items have zero popularity");
  const auto q = weight / total;
  cdf_ = torch::cumsum(q, 0);
  cdf_[num_items_ - 1] = 1.0;  // guard against rounding: every u < 1 finds an item
  log_q_ = torch::log(q).to(torch::kFloat32);
}

torch::Tensor NegativeSampler::uniform_excluding(const torch::Tensor& pos_items, int64_t k) {
  DIVREC_CHECK(pos_items.dim() == 1 && pos_items.scalar_type() == torch::kInt64 && k >= 1,
               "negative sampler: pos_items must be [N] int64 and k >= 1, got ", pos_items.sizes(),
               ", k = ", k);
  const auto pos = pos_items.to(torch::kCPU);
  const int64_t n = pos.size(0);
  auto r = torch::randint(num_items_ - 1, {n, k}, generator_, torch::kInt64);
  auto neg = r + r.ge(pos.unsqueeze(1)).to(torch::kInt64);  // skip over the positive
  if (k == 1) neg = neg.squeeze(1);
  return neg.to(pos_items.device());
}

SharedNegatives NegativeSampler::popularity_shared(int64_t s) {
  DIVREC_CHECK(s >= 1, "negative sampler: number of shared negatives must be >= 1, got ", s);
  const auto u = torch::rand({s}, shared_generator_, torch::kFloat64);
  auto items = torch::searchsorted(cdf_, u, /*out_int32=*/false, /*right=*/true);
  items = items.clamp_max(num_items_ - 1);
  return {items, log_q_.index_select(0, items)};
}

torch::Tensor NegativeSampler::log_q(const torch::Tensor& items) const {
  const auto flat = items.reshape({-1}).to(torch::kCPU);
  return log_q_.index_select(0, flat).reshape(items.sizes()).to(items.device());
}

}  // namespace divrec::trainer
