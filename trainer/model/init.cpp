// Weight initialisation helpers (see init.h).
#include "trainer/model/init.h"

#include <cmath>

namespace divrec::model {

void trunc_normal_(torch::Tensor& t, double std, c10::optional<at::Generator> gen) {
  torch::NoGradGuard no_grad;
  // Phi(-2) and Phi(2) of the standard normal; sample uniformly between them and invert.
  const double lo = 0.5 * (1.0 + std::erf(-2.0 / std::sqrt(2.0)));
  const double hi = 0.5 * (1.0 + std::erf(2.0 / std::sqrt(2.0)));
  t.uniform_(2.0 * lo - 1.0, 2.0 * hi - 1.0, gen);
  t.erfinv_();
  t.mul_(std * std::sqrt(2.0));
  t.clamp_(-2.0 * std, 2.0 * std);
}

void init_linear(torch::nn::Linear& linear, double std) {
  trunc_normal_(linear->weight, std);
  if (linear->bias.defined()) {
    torch::NoGradGuard no_grad;
    linear->bias.zero_();
  }
}

void init_layer_norm(torch::nn::LayerNorm& norm, double gain) {
  torch::NoGradGuard no_grad;
  norm->weight.fill_(gain);
  norm->bias.zero_();
}

}  // namespace divrec::model
