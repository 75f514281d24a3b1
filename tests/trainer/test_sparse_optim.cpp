// Sparse row optimizers: lazy-adam against python3-torch's SparseAdam (numbers printed by
// tools/reference/sparse_adam_reference.py, inputs reproduced here), rowwise-adagrad against a
// hand computation, the parallel loop against the same update in whole-tensor ops, the device
// (tensor-op) kernels against both, state round trips and the error messages.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/check.h"
#include "trainer/sparse_optim.h"
#include "trainer/sparse_optim_tensor_ops.h"

using namespace divrec::trainer;

namespace {
constexpr int64_t kRows = 7, kDim = 5;
const auto kF32 = torch::TensorOptions().dtype(torch::kFloat32);

torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
torch::Tensor floats(std::vector<std::vector<float>> rows) {
  auto t =
      torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, kF32);
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t d = 0; d < rows[r].size(); ++d) t[r][d] = rows[r][d];
  return t;
}

// The reference script's inputs: w0[r][d] = sin(0.3 r + 0.7 d + 0.1), the gradient of row r at
// step s is (1 + 0.1 r) cos(0.5 s + 0.9 r - 0.4 d), both rounded to float32.
const std::vector<std::vector<int64_t>> kTouched = {{0, 2, 5}, {5, 1, 3}, {6, 2, 3}, {0, 5, 1}};
const std::vector<double> kLrs = {0.05, 0.04, 0.03, 0.02};
torch::Tensor initial_weight() {
  auto t = torch::empty({kRows, kDim}, kF32);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t d = 0; d < kDim; ++d)
      t[r][d] = static_cast<float>(std::sin(0.3 * r + 0.7 * d + 0.1));
  return t;
}
torch::Tensor grad_rows(int64_t step, const std::vector<int64_t>& rows) {
  auto t = torch::empty({static_cast<int64_t>(rows.size()), kDim}, kF32);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t d = 0; d < kDim; ++d)
      t[i][d] =
          static_cast<float>((1 + 0.1 * rows[i]) * std::cos(0.5 * step + 0.9 * rows[i] - 0.4 * d));
  return t;
}
// Steps first..last (1-based) of the reference trajectory.
void run_reference_steps(SparseRowOptimizer& opt, torch::Tensor& weight, int64_t first,
                         int64_t last) {
  for (int64_t s = first; s <= last; ++s) {
    const auto& rows = kTouched[s - 1];
    opt.step(weight, longs(rows), grad_rows(s, rows), kLrs[s - 1], s);
  }
}
SparseOptimConfig reference_adam_config() {
  SparseOptimConfig c;
  c.beta1 = 0.85;
  c.beta2 = 0.99;
  c.eps = 1e-7;
  return c;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double diff =
      (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>();
  EXPECT_LE(diff, tol) << what << "\ngot\n" << got << "\nwant\n" << want;
}

// Expects fn to throw divrec::Error whose message contains `needle`.
void expect_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(SparseOptim, LazyAdamMatchesTorchSparseAdam) {
  SparseRowOptimizer opt(reference_adam_config(), kRows, kDim);
  auto weight = initial_weight();
  run_reference_steps(opt, weight, 1, 4);
  // /usr/bin/python3 tools/reference/sparse_adam_reference.py (python3-torch 1.13.1). The float32
  // operation order is SparseAdam's, so today this matches bit for bit; 1e-6 leaves room for a
  // different libm or compiler.
  expect_close(weight,
               floats({{0.0455856398, 0.657084882, 0.933112204, 0.742233515, 0.173378602},
                       {0.435092866, 0.872186005, 0.945541322, 0.559557021, -0.102495305},
                       {0.720473886, 1.05992723, 0.83172816, 0.288528651, -0.414356589},
                       {0.896913886, 1.04814303, 0.732316852, 0.0985036492, -0.555335581},
                       {0.963558197, 0.909297407, 0.427379876, -0.255541116, -0.818277121},
                       {0.893627286, 0.75943011, 0.211878926, -0.438485503, -0.850839078},
                       {0.926202178, 0.495403469, -0.177843615, -0.776900411, -1.0200212}}),
               1e-6, "weight");
  auto state = opt.state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "exp_avg");
  EXPECT_EQ(state[1].first, "exp_avg_sq");
  expect_close(state[0].second,
               floats({{0.0494697616, 0.122483104, 0.176159084, 0.202023387, 0.195992664},
                       {-0.205549449, -0.122267805, -0.0196827501, 0.0860097781, 0.178123266},
                       {-0.2796866, -0.224235773, -0.133383051, -0.0214721039, 0.0938288569},
                       {-0.236173451, -0.317913473, -0.349461973, -0.325838089, -0.250771552},
                       {0, 0, 0, 0, 0},
                       {0.401378155, 0.27529186, 0.105743036, -0.0805003047, -0.25403443},
                       {0.195774034, 0.234381035, 0.235984445, 0.200331077, 0.133049846}}),
               1e-6, "exp_avg");
  expect_close(state[1].second,
               floats({{0.00935627799, 0.0098098563, 0.0103484429, 0.0106453393, 0.0105204526},
                       {0.0126593914, 0.00782609545, 0.00554859405, 0.00720838923, 0.0117986714},
                       {0.0203702524, 0.0150657231, 0.00931369979, 0.00660328614, 0.00857857894},
                       {0.0160961766, 0.0268878154, 0.0315697193, 0.027301915, 0.0166731887},
                       {0, 0, 0, 0, 0},
                       {0.0344199836, 0.0252131205, 0.0209805761, 0.0242897458, 0.0331333429},
                       {0.0170344301, 0.0244153179, 0.0247505102, 0.0178366806, 0.00786767062}}),
               1e-6, "exp_avg_sq");
  // Row 4 was never touched: bit-identical weight, zero moments.
  EXPECT_TRUE(torch::equal(weight[4], initial_weight()[4]));
  EXPECT_EQ(state[0].second[4].abs().sum().item<float>(), 0.f);
  EXPECT_EQ(state[1].second[4].abs().sum().item<float>(), 0.f);
}

TEST(SparseOptim, RowwiseAdagradMatchesHandComputation) {
  // FBGEMM EXACT_ROWWISE_ADAGRAD: G_r += mean_d g_rd^2; w_r -= lr * g_r / (sqrt(G_r) + eps).
  // eps = 1e-8 changes nothing at the 1e-6 tolerance below.
  SparseOptimConfig c;
  c.kind = "rowwise-adagrad";
  SparseRowOptimizer opt(c, 3, 2);
  auto w = floats({{1, 2}, {0.5, -0.5}, {3, 0}});
  auto sum_sq = opt.state().at(0).second;
  // Step 1, lr 0.1, rows {0, 2}:
  //   row 0: g = (1, 7), G = (1 + 49) / 2 = 25, lr / sqrt(G) = 0.02 -> w = (0.98, 1.86)
  //   row 2: g = (2, -2), G = (4 + 4) / 2 = 4, lr / sqrt(G) = 0.05 -> w = (2.9, 0.1)
  opt.step(w, longs({0, 2}), floats({{1, 7}, {2, -2}}), 0.1, 1);
  expect_close(w, floats({{0.98, 1.86}, {0.5, -0.5}, {2.9, 0.1}}), 1e-6, "step 1");
  expect_close(sum_sq, torch::tensor({25.f, 0.f, 4.f}), 1e-6, "G after step 1");
  // Step 2, lr 0.2, rows {2, 1}:
  //   row 2: g = (4, 4), G = 4 + 16 = 20, 0.2 / sqrt(20) = 0.04472135955
  //          -> w = (2.9 - 0.1788854382, 0.1 - 0.1788854382) = (2.7211145618, -0.0788854382)
  //   row 1: g = (0, 6), G = 36 / 2 = 18, 0.2 / sqrt(18) = 0.04714045208
  //          -> w = (0.5, -0.5 - 0.2828427125) = (0.5, -0.7828427125)
  opt.step(w, longs({2, 1}), floats({{4, 4}, {0, 6}}), 0.2, 2);
  expect_close(w, floats({{0.98, 1.86}, {0.5, -0.7828427125}, {2.7211145618, -0.0788854382}}), 1e-6,
               "step 2");
  expect_close(sum_sq, torch::tensor({25.f, 18.f, 20.f}), 1e-5, "G after step 2");
  // Step 3, lr 0.1, row {0}: g = (-3, 1), G = 25 + 10 / 2 = 30, 0.1 / sqrt(30) = 0.01825741858
  //   -> w = (0.98 + 0.05477225575, 1.86 - 0.01825741858) = (1.0347722558, 1.8417425814)
  opt.step(w, longs({0}), floats({{-3, 1}}), 0.1, 3);
  expect_close(
      w,
      floats({{1.0347722558, 1.8417425814}, {0.5, -0.7828427125}, {2.7211145618, -0.0788854382}}),
      1e-6, "step 3");
  expect_close(sum_sq, torch::tensor({30.f, 18.f, 20.f}), 1e-5, "G after step 3");
}

TEST(SparseOptim, ParallelLoopMatchesWholeTensorUpdate) {
  // Enough rows that at::parallel_for splits the work (grain = 32768 / dim rows); the same
  // formulas (SparseAdam / FBGEMM, see sparse_optim.cpp) in torch ops on gathered rows.
  const int64_t rows = 20000, dim = 64, u = 6000;
  torch::manual_seed(7);
  auto idx = torch::randperm(rows, torch::kInt64).slice(0, 0, u);
  for (const std::string& kind : std::vector<std::string>{"lazy-adam", "rowwise-adagrad"}) {
    SparseOptimConfig c;
    c.kind = kind;
    SparseRowOptimizer opt(c, rows, dim);
    auto w = torch::randn({rows, dim});
    auto w0 = w.clone();
    auto m = torch::zeros({u, dim}), v = torch::zeros({u, dim}), acc = torch::zeros({u, 1});
    auto want = w.index_select(0, idx);
    for (int64_t s = 1; s <= 3; ++s) {
      auto g = torch::randn({u, dim});
      const double lr = 0.01 * s;
      opt.step(w, idx, g, lr, s);
      if (kind == "lazy-adam") {
        m = m + (g - m) * (1 - c.beta1);
        v = v + (g * g - v) * (1 - c.beta2);
        const double bc1 = 1 - std::pow(c.beta1, s), bc2 = 1 - std::pow(c.beta2, s);
        want = want - (lr * std::sqrt(bc2) / bc1) * (m / (v.sqrt() + c.eps));
      } else {
        acc = acc + (g * g).mean(1, /*keepdim=*/true);
        want = want - lr * g / (acc.sqrt() + c.eps);
      }
    }
    expect_close(w.index_select(0, idx), want, 1e-5, kind);
    auto untouched = torch::ones({rows}, torch::kBool).index_fill_(0, idx, false);
    EXPECT_TRUE(torch::equal(w.index({untouched}), w0.index({untouched}))) << kind;
  }
}

TEST(SparseOptim, TensorOpKernelsMatchTheFusedLoops) {
  // The device kernels (sparse_optim_tensor_ops.h), run here on CPU tensors, against the fused
  // loops: lazy Adam over the SparseAdam reference trajectory (pinned to python3-torch above),
  // row-wise Adagrad over the hand-computed steps. Same float32 formulas, different evaluation
  // order (vectorised ops, FMA), hence 1e-6 rather than bit equality.
  SparseRowOptimizer opt(reference_adam_config(), kRows, kDim);
  auto loop_w = initial_weight();
  run_reference_steps(opt, loop_w, 1, 4);
  const auto c = reference_adam_config();
  auto w = initial_weight();
  auto m = torch::zeros({kRows, kDim}), v = torch::zeros({kRows, kDim});
  for (int64_t s = 1; s <= 4; ++s) {
    const auto& rows = kTouched[s - 1];
    lazy_adam_rows(w, m, v, longs(rows), grad_rows(s, rows), kLrs[s - 1], c.beta1, c.beta2, c.eps,
                   s);
  }
  expect_close(w, loop_w, 1e-6, "lazy-adam weight");
  expect_close(m, opt.state()[0].second, 1e-6, "exp_avg");
  expect_close(v, opt.state()[1].second, 1e-6, "exp_avg_sq");
  EXPECT_TRUE(torch::equal(w[4], initial_weight()[4])) << "untouched row";

  // The same through SparseRowOptimizer::step's GPU branch (bounds check, state routing).
  SparseRowOptimizer forced(reference_adam_config(), kRows, kDim);
  forced.use_tensor_op_kernels(true);
  auto fw = initial_weight();
  run_reference_steps(forced, fw, 1, 4);
  expect_close(fw, loop_w, 1e-6, "forced tensor-op weight");
  expect_close(forced.state()[0].second, opt.state()[0].second, 1e-6, "forced exp_avg");
  expect_close(forced.state()[1].second, opt.state()[1].second, 1e-6, "forced exp_avg_sq");
  expect_error(
      [&] {
        forced.step(fw, longs({1, 7}), torch::zeros({2, kDim}), 0.1, 5);
      },
      "row 7, outside this rank's table [0, 7)");

  auto aw = floats({{1, 2}, {0.5, -0.5}, {3, 0}});
  auto acc = torch::zeros({3});
  rowwise_adagrad_rows(aw, acc, longs({0, 2}), floats({{1, 7}, {2, -2}}), 0.1, 1e-8);
  rowwise_adagrad_rows(aw, acc, longs({2, 1}), floats({{4, 4}, {0, 6}}), 0.2, 1e-8);
  rowwise_adagrad_rows(aw, acc, longs({0}), floats({{-3, 1}}), 0.1, 1e-8);
  expect_close(
      aw,
      floats({{1.0347722558, 1.8417425814}, {0.5, -0.7828427125}, {2.7211145618, -0.0788854382}}),
      1e-6, "rowwise-adagrad weight");
  expect_close(acc, torch::tensor({30.f, 18.f, 20.f}), 1e-5, "rowwise-adagrad G");
  SparseOptimConfig ac;
  ac.kind = "rowwise-adagrad";
  SparseRowOptimizer forced_ada(ac, 3, 2);
  forced_ada.use_tensor_op_kernels(true);
  auto fa = floats({{1, 2}, {0.5, -0.5}, {3, 0}});
  forced_ada.step(fa, longs({0, 2}), floats({{1, 7}, {2, -2}}), 0.1, 1);
  forced_ada.step(fa, longs({2, 1}), floats({{4, 4}, {0, 6}}), 0.2, 2);
  forced_ada.step(fa, longs({0}), floats({{-3, 1}}), 0.1, 3);
  expect_close(fa, aw, 1e-6, "forced rowwise-adagrad weight");
  expect_close(forced_ada.state().at(0).second, acc, 1e-6, "forced rowwise-adagrad G");
  // Nothing to do for U = 0.
  auto before = aw.clone();
  rowwise_adagrad_rows(aw, acc, longs({}), torch::zeros({0, 2}), 0.1, 1e-8);
  EXPECT_TRUE(torch::equal(aw, before));
}

TEST(SparseOptim, StateRoundTripGivesIdenticalUpdates) {
  for (const std::string& kind : std::vector<std::string>{"lazy-adam", "rowwise-adagrad"}) {
    SparseOptimConfig c = reference_adam_config();
    c.kind = kind;
    SparseRowOptimizer a(c, kRows, kDim);
    auto wa = initial_weight();
    run_reference_steps(a, wa, 1, 2);
    const auto w2 = wa.clone();
    // Cloned state (as a checkpoint would hold it) into a fresh optimizer.
    std::vector<std::pair<std::string, torch::Tensor>> saved;
    for (const auto& [name, t] : a.state()) saved.emplace_back(name, t.clone());
    SparseRowOptimizer b(c, kRows, kDim);
    b.load_state(saved);
    auto wb = w2.clone();
    run_reference_steps(a, wa, 3, 4);
    run_reference_steps(b, wb, 3, 4);
    EXPECT_TRUE(torch::equal(wa, wb)) << kind;
    for (size_t i = 0; i < a.state().size(); ++i)
      EXPECT_TRUE(torch::equal(a.state()[i].second, b.state()[i].second)) << kind;
    // Without the state the same steps give other weights, so the comparison above can fail.
    SparseRowOptimizer fresh(c, kRows, kDim);
    auto wf = w2.clone();
    run_reference_steps(fresh, wf, 3, 4);
    EXPECT_FALSE(torch::equal(wf, wb)) << kind;
  }
}

TEST(SparseOptim, StateSharesStorageAndReportsSizes) {
  SparseOptimConfig c;
  SparseRowOptimizer adam(c, 10, 64);
  EXPECT_EQ(adam.state_bytes_per_row(), 2 * 64 * 4);
  auto exp_avg = adam.state()[0].second;
  EXPECT_EQ(exp_avg.data_ptr(), adam.state()[0].second.data_ptr());
  // load_state copies into that storage rather than replacing it.
  adam.load_state({{"exp_avg_sq", torch::full({10, 64}, 2.f)}, {"exp_avg", torch::ones({10, 64})}});
  EXPECT_EQ(exp_avg.sum().item<float>(), 640.f);
  EXPECT_EQ(adam.state()[1].second.sum().item<float>(), 1280.f);

  c.kind = "rowwise-adagrad";
  SparseRowOptimizer adagrad(c, 10, 64);
  EXPECT_EQ(adagrad.state_bytes_per_row(), 4);
  ASSERT_EQ(adagrad.state().size(), 1u);
  EXPECT_EQ(adagrad.state()[0].first, "sum_sq");
  EXPECT_EQ(adagrad.state()[0].second.sizes(), torch::IntArrayRef({10}));
  EXPECT_EQ(adagrad.config().kind, "rowwise-adagrad");

  // 1 + 4 + 9 + 16 + 0.25 = 30.25; empty: 0.
  EXPECT_DOUBLE_EQ(SparseRowOptimizer::grad_sq_sum(torch::tensor({1.f, 2.f, 3.f, 4.f, 0.5f})),
                   30.25);
  EXPECT_EQ(SparseRowOptimizer::grad_sq_sum(torch::zeros({0, 64})), 0.0);

  // No rows: nothing changes.
  auto w = torch::ones({10, 64});
  adagrad.step(w, torch::zeros({0}, torch::kInt64), torch::zeros({0, 64}), 0.1, 1);
  EXPECT_TRUE(torch::equal(w, torch::ones({10, 64})));
}

TEST(SparseOptim, ClearErrors) {
  SparseOptimConfig bad;
  bad.kind = "adam";
  expect_error([&] { SparseRowOptimizer(bad, 3, 2); }, "--sparse-optimizer");
  bad = SparseOptimConfig();
  bad.beta2 = 1.0;
  expect_error([&] { validate(bad); }, "beta2");
  bad = SparseOptimConfig();
  bad.eps = 0;
  expect_error([&] { validate(bad); }, "eps");
  expect_error([&] { SparseRowOptimizer(SparseOptimConfig(), 3, 0); }, "dim >= 1");

  SparseRowOptimizer opt(SparseOptimConfig(), 3, 2);
  auto w = torch::zeros({3, 2});
  auto g = torch::ones({2, 2});
  auto rows = longs({0, 2});
  auto wrong_w = torch::zeros({4, 2});
  expect_error([&] { opt.step(wrong_w, rows, g, 0.1, 1); }, "weight must be [3, 2], got [4, 2]");
  auto w64 = torch::zeros({3, 2}, torch::kFloat64);
  expect_error([&] { opt.step(w64, rows, g, 0.1, 1); }, "float32");
  expect_error(
      [&] {
        opt.step(w, rows, torch::ones({3, 2}), 0.1, 1);
      },
      "grad must be [U = 2, 2] like local_rows, got [3, 2]");
  expect_error(
      [&] {
        opt.step(w, rows, torch::ones({2, 2}, torch::kFloat64), 0.1, 1);
      },
      "grad must be a float32");
  expect_error([&] { opt.step(w, rows.to(torch::kInt32), g, 0.1, 1); }, "int64");
  expect_error(
      [&] {
        opt.step(w, longs({0, 3}), g, 0.1, 1);
      },
      "local_rows[1] = 3 is outside this rank's table [0, 3)");
  expect_error([&] { opt.step(w, longs({-1, 0}), g, 0.1, 1); }, "local_rows[0] = -1");
  expect_error([&] { opt.step(w, rows, g, 0.1, 0); }, "step is 1-based");
  expect_error([&] { opt.step(w, rows, g, std::nan(""), 1); }, "lr must be finite");
  EXPECT_TRUE(torch::equal(w, torch::zeros({3, 2})));  // nothing was applied

  auto m = torch::ones({3, 2});
  expect_error([&] { opt.load_state({{"exp_avg", m}}); }, "'exp_avg_sq' is missing");
  expect_error(
      [&] {
        opt.load_state({{"exp_avg", m}, {"exp_avg_sq", torch::ones({2, 2})}});
      },
      "'exp_avg_sq' must be [3, 2], got [2, 2]");
  expect_error(
      [&] {
        opt.load_state({{"exp_avg", m}, {"exp_avg_sq", m}, {"sum_sq", m}});
      },
      "'sum_sq' is not part of lazy-adam state");
  expect_error([&] { opt.load_state({{"exp_avg", m}, {"exp_avg", m}}); }, "given twice");
  expect_error(
      [&] {
        opt.load_state({{"exp_avg", m}, {"exp_avg_sq", m.to(torch::kFloat64)}});
      },
      "'exp_avg_sq' must be float32");
  // The failed loads left the zero state alone (exp_avg was valid in each).
  EXPECT_EQ(opt.state()[0].second.abs().sum().item<float>(), 0.f);
}
