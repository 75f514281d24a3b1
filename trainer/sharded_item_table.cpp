// ShardedItemTable (see sharded_item_table.h).
#include "trainer/sharded_item_table.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/comm/typed.h"
#include "data_shards/sampler.h"
#include "trainer/model/init.h"

namespace divrec::trainer {

namespace {
constexpr int64_t kInitChunkRows = 1 << 16;
}

ShardedItemTable::ShardedItemTable(ShardingPlan plan, int64_t dim, SparseOptimConfig optim,
                                   core::Communicator& comm, torch::Device device)
    : plan_(plan),
      dim_(dim),
      comm_(comm),
      weight_(torch::zeros({plan.local_rows(), dim},
                           torch::TensorOptions().dtype(torch::kFloat32).device(device))),
      optimizer_(std::make_unique<SparseRowOptimizer>(optim, plan.local_rows(), dim, device)),
      exchange_(plan, dim, comm) {
  DIVREC_CHECK(plan_.num_rows > 0, "item table: needs at least one row");
}

void ShardedItemTable::init_trunc_normal(double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const int64_t n = plan_.num_rows;
  const int W = plan_.row_wise() ? plan_.world : 1;
  for (int64_t c0 = 0; c0 < n; c0 += kInitChunkRows) {
    const int64_t rows = std::min(kInitChunkRows, n - c0);
    auto gen = at::detail::createCPUGenerator(data::mix_seeds(seed, static_cast<uint64_t>(c0)));
    auto chunk = torch::empty({rows, dim_}, torch::kFloat32);
    model::trunc_normal_(chunk, std, gen);
    if (W == 1) {
      weight_.narrow(0, c0, rows).copy_(chunk);
      continue;
    }
    // Global rows c0 + j owned here: j = first, first + W, ... with (c0 + first) % W == rank.
    const int64_t first = ((plan_.rank - c0) % W + W) % W;
    if (first >= rows) continue;
    const auto picked = chunk.index_select(0, torch::arange(first, rows, W, torch::kInt64));
    // copy_ moves the rows to the table's device (a no-op hop on the CPU).
    weight_.narrow(0, (c0 + first) / W, picked.size(0)).copy_(picked);
  }
}

torch::Tensor ShardedItemTable::lookup(const torch::Tensor& ids) {
  DIVREC_CHECK(ids.device() == device(), "item table: ids are on ", ids.device(),
               " but the table lives on ", device());
  route_ = exchange_.route(ids);
  torch::Tensor rows;
  {
    torch::NoGradGuard no_grad;
    rows = exchange_.fetch(route_, weight_);
  }
  rows_ = rows.requires_grad_(true);
  return rows_;
}

double ShardedItemTable::reduce_gradients(double scale) {
  DIVREC_CHECK(route_.ids.defined(), "item table: reduce_gradients before lookup");
  torch::Tensor g = rows_.defined() ? rows_.grad() : torch::Tensor();
  if (!g.defined()) g = torch::zeros({route_.ids.numel(), dim_}, weight_.options());
  reduced_ = exchange_.reduce_gradients(route_, g, scale);
  double sq = reduced_.grad.to(torch::kFloat64).pow(2).sum().item<double>();
  if (plan_.row_wise()) sq = core::allreduce_scalar(comm_, sq, core::ReduceOp::kSum);
  return sq;
}

void ShardedItemTable::apply(double lr, double clip_scale, int64_t step) {
  DIVREC_CHECK(reduced_.grad.defined(), "item table: apply before reduce_gradients");
  if (clip_scale != 1.0) reduced_.grad.mul_(clip_scale);
  if (reduced_.local_rows.numel() > 0) {
    optimizer_->step(weight_, reduced_.local_rows, reduced_.grad, lr, step);
  }
  reduced_ = {};
  rows_ = torch::Tensor();
}

torch::Tensor ShardedItemTable::gather_full() {
  if (!plan_.row_wise()) return weight_;
  // One broadcast per owning rank into a reused block, scattered into place at once: the peak is
  // the full table plus one rank's rows, not two full tables (an all-gather of the blocks needs
  // a second [I, D] buffer to undo the round-robin order).
  const int W = plan_.world;
  int64_t max_rows = 0;
  for (int r = 0; r < W; ++r) max_rows = std::max(max_rows, plan_.rows_on(r));
  auto full = torch::empty({plan_.num_rows, dim_}, weight_.options());
  auto block = torch::empty({max_rows, dim_}, weight_.options());
  const auto index_options = weight_.options().dtype(torch::kInt64);
  for (int r = 0; r < W; ++r) {
    const int64_t n = plan_.rows_on(r);
    if (n == 0) continue;
    auto rows = block.narrow(0, 0, n);  // contiguous: the leading rows
    if (r == comm_.rank()) rows.copy_(weight_);
    comm_.broadcast(rows, r);
    // Global row of (local j, rank r) = j W + r.
    full.index_copy_(0, torch::arange(r, plan_.num_rows, W, index_options), rows);
  }
  return full;
}

}  // namespace divrec::trainer
