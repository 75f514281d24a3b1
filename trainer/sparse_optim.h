// Row-sparse optimizers for this rank's rows of a large item-embedding table: each step updates
// only the U rows that received a gradient (lazy Adam = torch.optim.SparseAdam, or FBGEMM's exact
// row-wise Adagrad), so the cost per step is O(U * dim) whatever the table size. LibTorch 1.13's
// C++ API has no SparseAdam and its Adam rejects sparse gradients, hence this class.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace divrec::trainer {

struct SparseOptimConfig {
  std::string kind = "lazy-adam";  // "lazy-adam" | "rowwise-adagrad"; anything else throws naming
                                   // --sparse-optimizer
  double beta1 = 0.9, beta2 = 0.999;  // lazy-adam
  double eps = 1e-8;                  // both
};

// Throws naming the option (--sparse-optimizer, --sparse-beta1, ...) for an unknown kind, a beta
// outside [0, 1) or eps <= 0 (the ranges torch.optim.SparseAdam accepts).
void validate(const SparseOptimConfig& config);

class SparseRowOptimizer {
 public:
  // rows x dim float32 state for this rank's rows of the table, zero-initialised (SparseAdam and
  // FBGEMM both start from zero moments / accumulators), on `device` (the table's). Throws via
  // validate(config), or when rows < 0 or dim < 1.
  SparseRowOptimizer(SparseOptimConfig config, int64_t rows, int64_t dim,
                     torch::Device device = torch::kCPU);

  // One update of the given rows. CPU: fused per-row loops (sparse_optim.cpp); any other device
  // (or after use_tensor_op_kernels(true)): the tensor-op kernels of sparse_optim_tensor_ops.h,
  // the same formulas. Throws for inputs that break the contract below.
  //   weight:     [rows, dim] float32, contiguous, on the optimizer's device; updated in place
  //               (CPU: raw writes, no autograd, its version counter is bumped).
  //   local_rows: [U] int64 UNIQUE row indices into weight, on that device (uniqueness is the
  //               caller's promise, checked only in debug builds; duplicates would race). U = 0
  //               is a no-op.
  //   grad:       [U, dim] float32 on that device, the already-summed (and clipped) gradient of
  //               those rows.
  //   lr:         learning rate of this step (>= 0, finite).
  //   step:       1-based count of optimizer steps so far including this one (>= 1); lazy Adam's
  //               bias correction uses it for every row, as SparseAdam does with its per-parameter
  //               step when the table gets a gradient every step.
  // Rows not in local_rows, their weights and their state, are not read or written.
  void step(torch::Tensor& weight, const torch::Tensor& local_rows, const torch::Tensor& grad,
            double lr, int64_t step);

  // Sum of squares of grad (any floating dtype, any shape), accumulated in double, for the global
  // gradient-norm clip computed by the caller.
  static double grad_sq_sum(const torch::Tensor& grad);

  // State for checkpoints, every tensor float32 on the optimizer's device, first dimension = rows:
  //   lazy-adam       {"exp_avg" [rows, dim], "exp_avg_sq" [rows, dim]}
  //   rowwise-adagrad {"sum_sq" [rows]}   (1-D, like FBGEMM's momentum1)
  // The tensors share storage with the optimizer (so a caller can gather/scatter rows).
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  // Copies values into the optimizer's own tensors (storage handed out by state() stays valid).
  // Throws naming the entry for an unknown, repeated or missing name, a wrong shape or a dtype
  // other than float32; nothing is changed when it throws.
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state);

  const SparseOptimConfig& config() const;
  // The kernels a GPU table uses, on any device: tests run the GPU code path on the CPU this way.
  void use_tensor_op_kernels(bool on) { tensor_ops_ = on; }

  int64_t rows() const { return rows_; }
  // Where the state lives (indexed: cuda:0 for an unindexed cuda), as the tensors it is given.
  torch::Device device() const { return (adam_ ? exp_avg_ : sum_sq_).device(); }
  int64_t dim() const { return dim_; }
  // Bytes of optimizer state per row (for memory reports): lazy-adam 2 * dim * 4,
  // rowwise-adagrad 4.
  int64_t state_bytes_per_row() const;

 private:
  void check_step_inputs(const torch::Tensor& weight, const torch::Tensor& local_rows,
                         const torch::Tensor& grad, double lr, int64_t step) const;

  SparseOptimConfig config_;
  bool adam_;  // kind == "lazy-adam" (else rowwise-adagrad)
  int64_t rows_, dim_;
  bool tensor_ops_ = false;  // step() uses sparse_optim_tensor_ops.h (default: not on the CPU)
  torch::Tensor exp_avg_, exp_avg_sq_;  // lazy-adam: [rows, dim] float32
  torch::Tensor sum_sq_;                // rowwise-adagrad: [rows] float32
};

}  // namespace divrec::trainer
