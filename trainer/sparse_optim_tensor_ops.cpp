// Tensor-op lazy Adam and row-wise Adagrad (see sparse_optim_tensor_ops.h): gather the touched
// rows of the weight and state, update them with whole-tensor arithmetic, scatter them back.
// Under NoGradGuard: the updates are optimizer steps, not part of any graph.
#include "trainer/sparse_optim_tensor_ops.h"

#include <cmath>

namespace divrec::trainer {

void lazy_adam_rows(torch::Tensor& weight, torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq,
                    const torch::Tensor& rows, const torch::Tensor& grad, double lr, double beta1,
                    double beta2, double eps, int64_t step) {
  if (rows.numel() == 0) return;
  torch::NoGradGuard no_grad;
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const double neg_step_size = -(lr * std::sqrt(bc2) / bc1);
  auto m = exp_avg.index_select(0, rows);
  auto v = exp_avg_sq.index_select(0, rows);
  m.add_((grad - m).mul_(1.0 - beta1));
  v.add_((grad * grad - v).mul_(1.0 - beta2));
  auto w = weight.index_select(0, rows);
  // -step_size * (m / (sqrt(v) + eps)) rounded before the add, as SparseAdam and the loop (an
  // add_ with alpha would fuse it into one multiply-add).
  w.add_((m / (v.sqrt() + eps)).mul_(neg_step_size));
  exp_avg.index_copy_(0, rows, m);
  exp_avg_sq.index_copy_(0, rows, v);
  weight.index_copy_(0, rows, w);
}

void rowwise_adagrad_rows(torch::Tensor& weight, torch::Tensor& sum_sq, const torch::Tensor& rows,
                          const torch::Tensor& grad, double lr, double eps) {
  if (rows.numel() == 0) return;
  torch::NoGradGuard no_grad;
  auto acc = sum_sq.index_select(0, rows) + (grad * grad).sum(1).div_(grad.size(1));
  auto multiplier = lr / (acc.sqrt() + eps);  // [U]
  auto w = weight.index_select(0, rows) - grad * multiplier.unsqueeze(1);
  sum_sq.index_copy_(0, rows, acc);
  weight.index_copy_(0, rows, w);
}

}  // namespace divrec::trainer
