// Lazy Adam and exact row-wise Adagrad over the touched rows of an embedding table (see
// sparse_optim.h): input checks, then one parallel loop over the U rows that reads and writes
// only those rows of the weight and of the state, in the float32 operation order of the sources.
#include "trainer/sparse_optim.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/check.h"
#include "trainer/sparse_optim_tensor_ops.h"

namespace divrec::trainer {
namespace {

// Rows per parallel task: about 32 k floats, so small steps stay on one thread.
int64_t grain_rows(int64_t dim) { return std::max<int64_t>(1, 32768 / dim); }

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// Lazy Adam on one row, float32, in the order of torch/optim/_functional.py sparse_adam()
// (python3-torch 1.13):
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2)
//   w += -step_size * (m / (sqrt(v) + eps)),  step_size = lr * sqrt(bc2) / bc1 (in double)
// with the double scalars rounded to float as torch does for a float tensor times a scalar.
void lazy_adam_row(float* w, float* m, float* v, const float* g, int64_t dim, float one_m_b1,
                   float one_m_b2, float eps, float neg_step_size) {
  for (int64_t d = 0; d < dim; ++d) {
    const float m_new = m[d] + (g[d] - m[d]) * one_m_b1;
    const float v_new = v[d] + (g[d] * g[d] - v[d]) * one_m_b2;
    m[d] = m_new;
    v[d] = v_new;
    w[d] = w[d] + neg_step_size * (m_new / (std::sqrt(v_new) + eps));
  }
}

// Exact row-wise Adagrad on one row, as FBGEMM's CPU kernel (fbgemm_gpu/codegen/genscript/
// optimizers.py, rowwise_adagrad() split_weight_update_cpu, i.e. EmbOptimType.
// EXACT_ROWWISE_ADAGRAD of split_table_batched_embeddings_ops; weight_decay_mode 0), float32:
//   G += sum_d(g_d^2) / dim;  w_d -= g_d * (lr / (sqrt(G) + eps))
void rowwise_adagrad_row(float* w, float* sum_sq, const float* g, int64_t dim, float lr,
                         float eps) {
  float g_sum_sq = 0.f;
  for (int64_t d = 0; d < dim; ++d) g_sum_sq += g[d] * g[d];
  const float acc = *sum_sq + g_sum_sq / static_cast<float>(dim);
  *sum_sq = acc;
  const float multiplier = lr / (std::sqrt(acc) + eps);
  for (int64_t d = 0; d < dim; ++d) w[d] = w[d] - g[d] * multiplier;
}

}  // namespace

void validate(const SparseOptimConfig& c) {
  DIVREC_CHECK_HINT(c.kind == "lazy-adam" || c.kind == "rowwise-adagrad",
                    "use --sparse-optimizer lazy-adam or rowwise-adagrad",
                    "--sparse-optimizer must be lazy-adam or rowwise-adagrad, got '", c.kind, "'");
  DIVREC_CHECK(c.beta1 >= 0 && c.beta1 < 1, "sparse optimizer beta1 must be in [0, 1), got ",
               c.beta1);
  DIVREC_CHECK(c.beta2 >= 0 && c.beta2 < 1, "sparse optimizer beta2 must be in [0, 1), got ",
               c.beta2);
  DIVREC_CHECK(c.eps > 0 && std::isfinite(c.eps), "sparse optimizer eps must be > 0, got ", c.eps);
}

SparseRowOptimizer::SparseRowOptimizer(SparseOptimConfig config, int64_t rows, int64_t dim,
                                       torch::Device device)
    : config_(std::move(config)), rows_(rows), dim_(dim) {
  validate(config_);
  DIVREC_CHECK(rows >= 0 && dim >= 1, "sparse optimizer table must be rows >= 0 x dim >= 1, got ",
               rows, " x ", dim);
  adam_ = config_.kind == "lazy-adam";
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  if (adam_) {
    exp_avg_ = torch::zeros({rows, dim}, f32);
    exp_avg_sq_ = torch::zeros({rows, dim}, f32);
  } else {
    sum_sq_ = torch::zeros({rows}, f32);
  }
  tensor_ops_ = !this->device().is_cpu();
}

const SparseOptimConfig& SparseRowOptimizer::config() const { return config_; }

int64_t SparseRowOptimizer::state_bytes_per_row() const {
  return adam_ ? 2 * dim_ * static_cast<int64_t>(sizeof(float)) : sizeof(float);
}

void SparseRowOptimizer::check_step_inputs(const torch::Tensor& weight,
                                           const torch::Tensor& local_rows,
                                           const torch::Tensor& grad, double lr,
                                           int64_t step) const {
  const torch::Device dev = device();
  DIVREC_CHECK(weight.defined() && weight.device() == dev &&
                   weight.scalar_type() == torch::kFloat32 && weight.is_contiguous(),
               "sparse optimizer weight must be a contiguous float32 tensor on ", dev);
  DIVREC_CHECK(weight.dim() == 2 && weight.size(0) == rows_ && weight.size(1) == dim_,
               "sparse optimizer weight must be [", rows_, ", ", dim_, "], got ", shape_of(weight));
  DIVREC_CHECK(local_rows.defined() && local_rows.dim() == 1 &&
                   local_rows.scalar_type() == torch::kInt64 && local_rows.device() == dev,
               "sparse optimizer local_rows must be a 1-D int64 tensor on ", dev, ", got ",
               local_rows.defined() ? shape_of(local_rows) : "undefined");
  const int64_t u = local_rows.size(0);
  DIVREC_CHECK(grad.defined() && grad.scalar_type() == torch::kFloat32 && grad.device() == dev,
               "sparse optimizer grad must be a float32 tensor on ", dev);
  DIVREC_CHECK(grad.dim() == 2 && grad.size(0) == u && grad.size(1) == dim_,
               "sparse optimizer grad must be [U = ", u, ", ", dim_, "] like local_rows, got ",
               shape_of(grad));
  DIVREC_CHECK(std::isfinite(lr) && lr >= 0, "sparse optimizer lr must be finite and >= 0, got ",
               lr);
  DIVREC_CHECK(step >= 1, "sparse optimizer step is 1-based, got ", step);
}

void SparseRowOptimizer::step(torch::Tensor& weight, const torch::Tensor& local_rows,
                              const torch::Tensor& grad, double lr, int64_t step) {
  check_step_inputs(weight, local_rows, grad, lr, step);
  const int64_t u = local_rows.size(0);
  if (u == 0) return;
  if (tensor_ops_) {
    // One bounds check (a single device-to-host copy), then the tensor-op kernels.
    const auto range = torch::stack({local_rows.min(), local_rows.max()}).to(torch::kCPU);
    const int64_t lo = range[0].item<int64_t>(), hi = range[1].item<int64_t>();
    DIVREC_CHECK(lo >= 0 && hi < rows_, "sparse optimizer local_rows hold row ", lo < 0 ? lo : hi,
                 ", outside this rank's table [0, ", rows_, ")");
#ifndef NDEBUG
    DIVREC_CHECK(std::get<0>(torch::_unique(local_rows)).numel() == u,
                 "sparse optimizer local_rows holds a row twice");
#endif
    if (adam_) {
      lazy_adam_rows(weight, exp_avg_, exp_avg_sq_, local_rows, grad, lr, config_.beta1,
                     config_.beta2, config_.eps, step);
    } else {
      rowwise_adagrad_rows(weight, sum_sq_, local_rows, grad, lr, config_.eps);
    }
    return;
  }
  const auto rows_c = local_rows.contiguous();
  const auto grad_c = grad.contiguous();
  const int64_t* idx = rows_c.data_ptr<int64_t>();
  for (int64_t i = 0; i < u; ++i) {  // O(U): every write below stays inside the table
    DIVREC_CHECK(idx[i] >= 0 && idx[i] < rows_, "sparse optimizer local_rows[", i, "] = ", idx[i],
                 " is outside this rank's table [0, ", rows_, ")");
  }
#ifndef NDEBUG
  {
    std::vector<int64_t> sorted(idx, idx + u);
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    DIVREC_CHECK(dup == sorted.end(), "sparse optimizer local_rows holds row ", *dup, " twice");
  }
#endif
  float* w = weight.data_ptr<float>();
  const float* g = grad_c.data_ptr<float>();
  const int64_t dim = dim_;
  if (adam_) {
    const double bc1 = 1.0 - std::pow(config_.beta1, static_cast<double>(step));
    const double bc2 = 1.0 - std::pow(config_.beta2, static_cast<double>(step));
    const auto neg_step_size = static_cast<float>(-(lr * std::sqrt(bc2) / bc1));
    const auto one_m_b1 = static_cast<float>(1.0 - config_.beta1);
    const auto one_m_b2 = static_cast<float>(1.0 - config_.beta2);
    const auto eps = static_cast<float>(config_.eps);
    float* m = exp_avg_.data_ptr<float>();
    float* v = exp_avg_sq_.data_ptr<float>();
    at::parallel_for(0, u, grain_rows(dim), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t r = idx[i] * dim;
        lazy_adam_row(w + r, m + r, v + r, g + i * dim, dim, one_m_b1, one_m_b2, eps,
                      neg_step_size);
      }
    });
  } else {
    const auto lr_f = static_cast<float>(lr);
    const auto eps = static_cast<float>(config_.eps);
    float* acc = sum_sq_.data_ptr<float>();
    at::parallel_for(0, u, grain_rows(dim), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        rowwise_adagrad_row(w + idx[i] * dim, acc + idx[i], g + i * dim, dim, lr_f, eps);
      }
    });
  }
  weight.unsafeGetTensorImpl()->bump_version();
}

double SparseRowOptimizer::grad_sq_sum(const torch::Tensor& grad) {
  DIVREC_CHECK(grad.defined() && grad.is_floating_point(),
               "sparse optimizer grad_sq_sum needs a floating-point tensor");
  if (grad.numel() == 0) return 0.0;
  const auto g = grad.to(torch::kFloat64);
  return g.pow(2).sum().item<double>();
}

std::vector<std::pair<std::string, torch::Tensor>> SparseRowOptimizer::state() const {
  if (adam_) return {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}};
  return {{"sum_sq", sum_sq_}};
}

void SparseRowOptimizer::load_state(
    const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  // Check everything first, then copy, so a bad entry leaves the optimizer unchanged.
  std::map<std::string, const torch::Tensor*> given;
  for (const auto& [name, tensor] : state) {
    DIVREC_CHECK(given.emplace(name, &tensor).second, "sparse optimizer state '", name,
                 "' is given twice");
  }
  const auto own = this->state();
  std::string expected;
  for (const auto& entry : own) expected += (expected.empty() ? "" : ", ") + entry.first;
  std::vector<const torch::Tensor*> sources;
  for (const auto& [name, mine] : own) {
    auto it = given.find(name);
    DIVREC_CHECK(it != given.end(), "sparse optimizer state '", name, "' is missing (",
                 config_.kind, " state is {", expected, "})");
    const torch::Tensor& t = *it->second;
    DIVREC_CHECK(t.defined() && t.scalar_type() == torch::kFloat32, "sparse optimizer state '",
                 name, "' must be float32");
    DIVREC_CHECK(t.sizes() == mine.sizes(), "sparse optimizer state '", name, "' must be ",
                 shape_of(mine), ", got ", shape_of(t));
    sources.push_back(it->second);
    given.erase(it);
  }
  DIVREC_CHECK(given.empty(), "sparse optimizer state '", given.empty() ? "" : given.begin()->first,
               "' is not part of ", config_.kind, " state {", expected, "}");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < own.size(); ++i) own[i].second.copy_(*sources[i]);
}

}  // namespace divrec::trainer
