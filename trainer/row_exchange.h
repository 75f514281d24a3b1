// RowExchange: the collective data movement of a per-item table in one training step, as
// TorchRec's input/output dists: row-wise, ids go to their owners and rows come back
// (all-to-all), then gradient rows go to their owners and are summed there in rank order;
// replicated, gradient rows are all-gathered and summed in the same rank order on every rank.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/comm/communicator.h"
#include "trainer/sharding_plan.h"

namespace divrec::trainer {

// One step's routing, made by RowExchange::route and reused by fetch and reduce_gradients.
struct RowRoute {
  torch::Tensor ids;  // [U] int64 sorted unique global ids this rank uses
  // Row-wise only:
  torch::Tensor order;              // [U] int64: send-buffer slot k holds ids[order[k]]
  std::vector<size_t> send_counts;  // ids asked of each owner (rank order)
  std::vector<size_t> recv_counts;  // ids each requester asked of this rank
  torch::Tensor served;             // [sum recv_counts] int64 local rows served, by requester
};

// Gradient rows owned by this rank after the exchange.
struct OwnedGradient {
  torch::Tensor local_rows;  // [V] int64 unique sorted local row indices
  torch::Tensor grad;        // [V, D] float32: scale * sum over ranks (rank order)
};

struct ExchangeStats {
  int64_t bytes_sent = 0;  // payload bytes this rank sent (ids, rows, gradients, counts)
  int64_t rows_sent = 0;
  int64_t exchanges = 0;
};

class RowExchange {
 public:
  RowExchange(ShardingPlan plan, int64_t dim, core::Communicator& comm);

  // ids: [U] int64 sorted unique global row ids in [0, num_rows), on the table's device (the
  // route's tensors stay there; the per-peer counts go through the host). Collective when
  // row-wise (every rank calls it once per step, possibly with U = 0).
  RowRoute route(const torch::Tensor& ids);
  // [U, D] float32 rows of ids (in route.ids order) from local_weight [local_rows, D].
  // Collective when row-wise.
  torch::Tensor fetch(const RowRoute& route, const torch::Tensor& local_weight);
  // grad: [U, D] float32 gradient of the rows of route.ids. Returns this rank's owned rows with
  // scale * (sum over ranks in rank order): replicated, every touched row of the job (the same
  // on every rank); row-wise, the touched rows this rank owns. Collective (world > 1).
  OwnedGradient reduce_gradients(const RowRoute& route, const torch::Tensor& grad, double scale);

  const ShardingPlan& plan() const { return plan_; }
  const ExchangeStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  // Blocks of rows (rank order) with unique rows inside each block -> unique sorted rows and
  // the rank-ordered sums.
  static OwnedGradient merge_blocks(const torch::Tensor& rows, const torch::Tensor& grads,
                                    const std::vector<size_t>& counts, double scale);

  ShardingPlan plan_;
  int64_t dim_;
  core::Communicator& comm_;
  ExchangeStats stats_;
};

}  // namespace divrec::trainer
