// ShardedItemTable: the item-id embedding as a table outside the dense model, replicated or
// row-wise sharded (TorchRec's ShardedEmbeddingCollection, one table), with its sparse
// optimizer state. A step looks up only the rows it touches and updates only those rows.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "core/comm/communicator.h"
#include "trainer/row_exchange.h"
#include "trainer/sharding_plan.h"
#include "trainer/sparse_optim.h"

namespace divrec::trainer {

class ShardedItemTable {
 public:
  // The table and its optimizer state live on `device`: host memory (kCPU) or a GPU's memory
  // (TorchRec's fused device kernel), where the row exchange runs NCCL on CUDA tensors.
  ShardedItemTable(ShardingPlan plan, int64_t dim, SparseOptimConfig optim,
                   core::Communicator& comm, torch::Device device = torch::kCPU);

  // Truncated N(0, std^2) init whose row r depends only on (seed, r): identical for every
  // world size and sharding mode (generated in fixed chunks of rows, each seeded by its index).
  void init_trunc_normal(double std, uint64_t seed);

  // Forward of a step: [U, D] float32 leaf (requires grad) holding the rows of ids ([U] int64,
  // sorted unique, on the table's device; throws otherwise). Collective when row-wise; call
  // exactly once per step on every rank.
  torch::Tensor lookup(const torch::Tensor& ids);
  // After backward: the rows' gradient (rows.grad() of the tensor lookup returned; undefined =
  // zeros) is exchanged and summed over ranks, times `scale` (1/world: the data-parallel mean).
  // Returns the GLOBAL squared L2 norm of the table's gradient (the same on every rank), for
  // the global clip. Collective (world > 1).
  double reduce_gradients(double scale);
  // Sparse optimizer step on the reduced rows, gradient multiplied by clip_scale first.
  // step: 1-based optimizer step count.
  void apply(double lr, double clip_scale, int64_t step);

  // [I, D] float32 copy of the whole table on every rank, on the table's device (one broadcast
  // per owning rank; replicated: the weight itself). For validation and final tests; memory
  // I x D x 4 bytes per rank, plus one rank's rows while gathering. Collective.
  torch::Tensor gather_full();

  const ShardingPlan& plan() const { return plan_; }
  int64_t dim() const { return dim_; }
  torch::Device device() const { return weight_.device(); }  // indexed (cuda:0, not cuda)
  torch::Tensor& weight() { return weight_; }  // [local_rows, D] float32 on device()
  SparseRowOptimizer& optimizer() { return *optimizer_; }
  RowExchange& exchange() { return exchange_; }
  // Unique rows touched by this rank in the last lookup, their ids and the leaf handed out.
  int64_t last_rows() const { return route_.ids.defined() ? route_.ids.numel() : 0; }
  const torch::Tensor& last_ids() const { return route_.ids; }
  const torch::Tensor& last_lookup() const { return rows_; }

 private:
  ShardingPlan plan_;
  int64_t dim_;
  core::Communicator& comm_;
  torch::Tensor weight_;
  std::unique_ptr<SparseRowOptimizer> optimizer_;
  RowExchange exchange_;
  RowRoute route_;
  torch::Tensor rows_;  // the leaf handed out by lookup
  OwnedGradient reduced_;
};

}  // namespace divrec::trainer
