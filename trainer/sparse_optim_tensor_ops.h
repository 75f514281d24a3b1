// Row-sparse optimizer updates written as LibTorch tensor ops (index_select, arithmetic,
// index_copy_), so they run wherever the table lives: the kernels SparseRowOptimizer uses for an
// item table in GPU memory. The CPU path keeps sparse_optim.cpp's fused per-row loops; both
// follow the same float32 formulas (the Adagrad row mean may round differently: a GPU sums in
// another order and divides by dim as a multiply), and tests/trainer compares them on the CPU.
// No argument checks here: SparseRowOptimizer::step validates (on CUDA an out-of-range row
// would be a device-side assert).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace divrec::trainer {

// Lazy Adam (torch.optim.SparseAdam; torch/optim/_functional.py sparse_adam, python3-torch
// 1.13) on the rows `rows` only:
//   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  w += -step_size * m / (sqrt(v) + eps)
//   step_size = lr * sqrt(1 - beta2^step) / (1 - beta1^step)   (in double, applied as float)
// weight, exp_avg, exp_avg_sq: [R, D] float32 on one device, updated in place; rows: [U] int64
// unique, in [0, R), on that device; grad: [U, D] float32 on that device. step >= 1.
void lazy_adam_rows(torch::Tensor& weight, torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq,
                    const torch::Tensor& rows, const torch::Tensor& grad, double lr, double beta1,
                    double beta2, double eps, int64_t step);

// Exact row-wise Adagrad (FBGEMM's EXACT_ROWWISE_ADAGRAD, weight_decay_mode 0) on `rows`:
//   G_r += mean_d(g_d^2);  w_d -= g_d * lr / (sqrt(G_r) + eps)
// weight [R, D] and sum_sq [R] float32 on one device, updated in place; rows, grad as above.
void rowwise_adagrad_rows(torch::Tensor& weight, torch::Tensor& sum_sq, const torch::Tensor& rows,
                          const torch::Tensor& grad, double lr, double eps);

}  // namespace divrec::trainer
