// Losses against independent values from tools/reference/losses_reference.py (float64 loops in
// numpy, torch autograd for the calibration gradient); inputs are the same fixed formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/check.h"
#include "trainer/losses.h"

using namespace divrec::trainer;

namespace {
constexpr int64_t kN = 5, kD = 4, kI = 7;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor hidden() {
  auto t = torch::empty({kN, kD}, kF64);
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t d = 0; d < kD; ++d) t[n][d] = std::sin(0.7 * n + 1.3 * d + 0.1);
  return t;
}
torch::Tensor item_vecs() {
  auto t = torch::empty({kI, kD}, kF64);
  for (int64_t i = 0; i < kI; ++i)
    for (int64_t d = 0; d < kD; ++d) t[i][d] = std::cos(0.9 * i - 0.4 * d + 0.2);
  return t;
}
torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
torch::Tensor pos_items() { return longs({1, 4, 0, 3, 6}); }  // (3n+1) % 7
torch::Tensor log_q_table() {                                 // q(i) = (i+1) / 28
  auto t = torch::empty({kI}, kF64);
  for (int64_t i = 0; i < kI; ++i) t[i] = std::log((i + 1) / 28.0);
  return t;
}

// Calibration inputs: U = 3 users, C = 3 categories.
torch::Tensor cal_logits() {
  auto t = torch::empty({3, kI}, kF64);
  for (int64_t u = 0; u < 3; ++u)
    for (int64_t i = 0; i < kI; ++i) t[u][i] = 2.0 * std::sin(0.5 * u + 0.8 * i);
  return t;
}
torch::Tensor cal_category() { return longs({0, 1, 2, 0, 1, 0, 2}); }
torch::Tensor cal_p() {
  return torch::tensor({0.5, 0.5, 0.0, 0.2, 0.3, 0.5, 1.0, 0.0, 0.0}, kF64).view({3, 3});
}
}  // namespace

TEST(Losses, BceOneNegativeMatchesReference) {
  // losses_reference.py: bce_k1 1.472634883277 (negatives (2n+5) % 7).
  auto loss = bce_loss(hidden(), pos_items(), longs({5, 0, 2, 4, 6}), item_vecs());
  EXPECT_NEAR(loss.item<double>(), 1.472634883277, 1e-10);
  // [N] and [N, 1] negatives are the same thing.
  auto loss2 = bce_loss(hidden(), pos_items(), longs({5, 0, 2, 4, 6}).view({kN, 1}), item_vecs());
  EXPECT_NEAR(loss2.item<double>(), loss.item<double>(), 1e-14);
}

TEST(Losses, BceTwoNegativesMatchesReference) {
  // losses_reference.py: bce_k2 2.209595603989 (negatives (n + 3k + 2) % 7).
  auto negs = torch::empty({kN, 2}, torch::kInt64);
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t k = 0; k < 2; ++k) negs[n][k] = (n + 3 * k + 2) % kI;
  EXPECT_NEAR(bce_loss(hidden(), pos_items(), negs, item_vecs()).item<double>(), 2.209595603989,
              1e-10);
}

TEST(Losses, SampledSoftmaxMatchesReference) {
  // losses_reference.py: sampled_softmax 1.576716503367. Shared negatives {2,4,3,5,2}: rows 1
  // and 3 have accidental hits (4 and 3), which the reference drops from the sum.
  auto negs = longs({2, 4, 3, 5, 2});
  auto lq = log_q_table();
  auto loss = sampled_softmax_loss(hidden(), pos_items(), negs, lq.index_select(0, pos_items()),
                                   lq.index_select(0, negs), item_vecs());
  EXPECT_NEAR(loss.item<double>(), 1.576716503367, 1e-10);
}

TEST(Losses, SampledSoftmaxGradientIsFinite) {
  auto h = hidden().requires_grad_(true);
  auto v = item_vecs().requires_grad_(true);
  auto negs = longs({4, 4, 1});  // row 1's positive is 4: both copies are masked hits
  auto lq = log_q_table();
  auto loss = sampled_softmax_loss(h, pos_items(), negs, lq.index_select(0, pos_items()),
                                   lq.index_select(0, negs), v);
  loss.backward();
  EXPECT_TRUE(torch::isfinite(h.grad()).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(v.grad()).all().item<bool>());
}

TEST(Losses, FullCeMatchesReference) {
  // losses_reference.py: full_ce 2.244542779165.
  EXPECT_NEAR(full_ce_loss(hidden(), pos_items(), item_vecs()).item<double>(), 2.244542779165,
              1e-10);
}

TEST(Losses, CategoryDistributionRowsSumToOne) {
  auto q = category_distribution(cal_logits(), cal_category(), 3);
  ASSERT_EQ(q.sizes(), torch::IntArrayRef({3, 3}));
  EXPECT_TRUE(torch::allclose(q.sum(1), torch::ones({3}, kF64)));
  // Category 2 holds items 2 and 6.
  auto probs = torch::softmax(cal_logits(), 1);
  EXPECT_NEAR(q[1][2].item<double>(), (probs[1][2] + probs[1][6]).item<double>(), 1e-15);
}

TEST(Losses, CalibrationKlAndGradientMatchReference) {
  // losses_reference.py: calibration_kl alpha=0.01 0.526119007844, alpha=0.1 0.454723113506,
  // and the autograd gradients w.r.t. the logits printed below them.
  const double expected_grad[2][3][7] = {
      {{-0.013715188367, -0.057395979079, 0.136723229024, -0.052954349903, -0.012164401559,
        -0.003018919144, 0.002525609027},
       {0.009908688851, 0.035694820772, -0.052309527635, 0.006129171680, 0.001800774678,
        0.000537675921, -0.001761604267},
       {-0.179215326326, 0.137792880004, 0.055095011137, -0.019976645168, 0.003438051483,
        -0.004892960328, 0.007758989197}},
      {{-0.011692978856, -0.048956702047, 0.116592136394, -0.045146597855, -0.010375796218,
        -0.002573800430, 0.002153739012},
       {0.007899625855, 0.029093105596, -0.042349367396, 0.004886434906, 0.001467723517,
        0.000428657986, -0.001426180463},
       {-0.141672978153, 0.108927780222, 0.043553609332, -0.015791901688, 0.002717842289,
        -0.003867974218, 0.006133622216}}};
  const double alphas[2] = {0.01, 0.1};
  const double expected_loss[2] = {0.526119007844, 0.454723113506};
  for (int a = 0; a < 2; ++a) {
    auto logits = cal_logits().requires_grad_(true);
    auto loss = calibration_kl(logits, cal_category(), cal_p(), alphas[a]);
    EXPECT_NEAR(loss.item<double>(), expected_loss[a], 1e-10) << "alpha " << alphas[a];
    loss.backward();
    for (int u = 0; u < 3; ++u)
      for (int i = 0; i < kI; ++i)
        EXPECT_NEAR(logits.grad()[u][i].item<double>(), expected_grad[a][u][i], 1e-10)
            << "alpha " << alphas[a] << " user " << u << " item " << i;
  }
}

TEST(Losses, CalibrationKlGradientMatchesFiniteDifferences) {
  auto logits = cal_logits().requires_grad_(true);
  auto loss = calibration_kl(logits, cal_category(), cal_p(), 0.05);
  loss.backward();
  const double eps = 1e-6;
  for (int u = 0; u < 3; ++u) {
    for (int i = 0; i < kI; ++i) {
      auto plus = cal_logits(), minus = cal_logits();
      plus[u][i] += eps;
      minus[u][i] -= eps;
      const double fd = (calibration_kl(plus, cal_category(), cal_p(), 0.05).item<double>() -
                         calibration_kl(minus, cal_category(), cal_p(), 0.05).item<double>()) /
                        (2 * eps);
      EXPECT_NEAR(logits.grad()[u][i].item<double>(), fd, 1e-8) << "user " << u << " item " << i;
    }
  }
}

TEST(Losses, CalibrationKlIsZeroWhenCalibrated) {
  // If q equals p exactly, q~ = p and KL = 0: uniform logits, one item per category.
  auto logits = torch::zeros({2, 3}, kF64);
  auto p = torch::full({2, 3}, 1.0 / 3.0, kF64);
  EXPECT_NEAR(calibration_kl(logits, longs({0, 1, 2}), p, 0.01).item<double>(), 0.0, 1e-14);
  // Users without history (p = 0) contribute 0 and no NaN.
  auto empty = torch::zeros({2, 3}, kF64);
  EXPECT_EQ(calibration_kl(logits, longs({0, 1, 2}), empty, 0.01).item<double>(), 0.0);
}

TEST(Losses, LossesWorkInFloat32) {
  auto h = hidden().to(torch::kFloat32), v = item_vecs().to(torch::kFloat32);
  EXPECT_NEAR(full_ce_loss(h, pos_items(), v).item<double>(), 2.244542779165, 1e-5);
  EXPECT_NEAR(bce_loss(h, pos_items(), longs({5, 0, 2, 4, 6}), v).item<double>(), 1.472634883277,
              1e-5);
}

TEST(Losses, RejectMismatchedShapes) {
  EXPECT_THROW(bce_loss(hidden(), longs({1, 2}), longs({1, 2}), item_vecs()), divrec::Error);
  EXPECT_THROW(full_ce_loss(hidden(), pos_items(), torch::zeros({kI, 3}, kF64)), divrec::Error);
}
