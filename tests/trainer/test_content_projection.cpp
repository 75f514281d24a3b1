// project_content (trainer/model/content_projection.h): the row-chunked projection of 16-bit
// content against a hand computation and against LibTorch's linear of the widened matrix, the
// autocast and fp32 paths, and its shape errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "trainer/model/content_projection.h"
#include "trainer/model/precision.h"

namespace divrec::model {
namespace {

namespace F = torch::nn::functional;

// y, dL/dW, dL/db of L = sum(y * probe) for one projection call.
struct Grads {
  torch::Tensor y, grad_weight, grad_bias;
};
template <typename Project>
Grads run(const torch::Tensor& w0, const torch::Tensor& b0, const torch::Tensor& probe,
          Project project) {
  auto w = w0.clone().requires_grad_(true);
  auto b = b0.defined() ? b0.clone().requires_grad_(true) : torch::Tensor();
  auto y = project(w, b);
  (y.to(torch::kFloat) * probe).sum().backward();
  return {y.detach(), w.grad(), b.defined() ? b.grad() : torch::Tensor()};
}

TEST(ContentProjection, HandComputedBf16InUnevenChunks) {
  // Values exact in bf16; chunks of 2 rows over 3 rows (2 + 1). probe = ones:
  // dL/dW[d] = column sums of x = [9, 12], dL/db = 3 rows.
  const auto x = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({3, 2}).to(torch::kBFloat16);
  const auto w = torch::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 1.f}).reshape({3, 2});
  const auto b = torch::tensor({0.5f, -1.f, 0.f});
  const auto g = run(w, b, torch::ones({3, 3}),
                     [&](auto& wt, auto& bt) { return project_content(x, wt, bt, 2); });
  EXPECT_EQ(g.y.scalar_type(), torch::kFloat);
  // The chunked function, not linear of a widened copy (which would give the same numbers).
  {
    auto w = torch::zeros({3, 2}, torch::requires_grad());
    const auto y = project_content(x, w, torch::Tensor(), 2);
    ASSERT_TRUE(y.grad_fn());
    EXPECT_NE(y.grad_fn()->name().find("ChunkedContentLinear"), std::string::npos)
        << y.grad_fn()->name();
  }
  EXPECT_TRUE(torch::equal(
      g.y, torch::tensor({1.5f, 1.f, 3.f, 3.5f, 3.f, 7.f, 5.5f, 5.f, 11.f}).reshape({3, 3})));
  EXPECT_TRUE(torch::equal(g.grad_weight,
                           torch::tensor({9.f, 12.f, 9.f, 12.f, 9.f, 12.f}).reshape({3, 2})));
  EXPECT_TRUE(torch::equal(g.grad_bias, torch::full({3}, 3.f)));
}

TEST(ContentProjection, MatchesLinearOfWidenedContent) {
  torch::manual_seed(7);
  const auto w = torch::randn({5, 11}) * 0.3;
  const auto b = torch::randn({5});
  const auto probe = torch::randn({37, 5});
  for (auto dtype : {torch::kBFloat16, torch::kHalf}) {
    const auto x = torch::randn({37, 11}).to(dtype);
    for (bool with_bias : {true, false}) {
      const auto bias = with_bias ? b : torch::Tensor();
      const auto want = run(w, bias, probe, [&](auto& wt, auto& bt) {
        return F::linear(x.to(torch::kFloat), wt, bt);
      });
      for (int64_t chunk : {1, 4, 37, 100, 0}) {
        SCOPED_TRACE(std::string(c10::toString(dtype)) + " bias " + std::to_string(with_bias) +
                     " chunk " + std::to_string(chunk));
        const auto got = run(w, bias, probe,
                             [&](auto& wt, auto& bt) { return project_content(x, wt, bt, chunk); });
        EXPECT_TRUE(torch::allclose(got.y, want.y, 1e-5, 1e-6));
        EXPECT_TRUE(torch::allclose(got.grad_weight, want.grad_weight, 1e-5, 1e-5));
        if (with_bias) {
          EXPECT_TRUE(torch::allclose(got.grad_bias, want.grad_bias, 1e-5, 1e-5));
        }
      }
    }
  }
  // No gradient graph at all (evaluation): same values.
  const auto x = torch::randn({9, 11}).to(torch::kBFloat16);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(project_content(x, w, b, 2), F::linear(x.to(torch::kFloat), w, b),
                              1e-5, 1e-6));
}

TEST(ContentProjection, Fp32ContentAndAutocastUseLinearAsIs) {
  torch::manual_seed(3);
  const auto w = torch::randn({4, 6});
  const auto b = torch::randn({4});
  const auto x32 = torch::randn({10, 6});
  EXPECT_TRUE(torch::equal(project_content(x32, w, b, 3), F::linear(x32, w, b)));
  // Under bf16 autocast the 16-bit content goes to the bf16 product unwidened, as linear would.
  const auto x16 = x32.to(torch::kBFloat16);
  AutocastScope scope(Precision::kBf16, torch::kCPU);
  ASSERT_TRUE(autocast_active(torch::kCPU));
  const auto y = project_content(x16, w, b, 3);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(y, F::linear(x16, w, b)));
}

TEST(ContentProjection, ShapeErrorsNameWhatWasExpected) {
  const auto w = torch::zeros({4, 6});
  auto message = [](auto f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] {
              project_content(torch::zeros({3, 5}), w, {});
            }).find("weight must be [D, 5]"),
            std::string::npos);
  EXPECT_NE(message([&] {
              project_content(torch::zeros({3, 6}), w, torch::zeros({3}));
            }).find("bias must be [4]"),
            std::string::npos);
  EXPECT_NE(message([&] { project_content(torch::zeros({6}), w, {}); }).find("2-D floating"),
            std::string::npos);
  EXPECT_NE(message([&] {
              project_content(torch::zeros({3, 6}, torch::kInt64), w, {});
            }).find("2-D floating"),
            std::string::npos);
  EXPECT_NE(message([&] {
              project_content(torch::zeros({3, 6}, torch::requires_grad()), w, {});
            }).find("gets no gradient"),
            std::string::npos);
}

}  // namespace
}  // namespace divrec::model
