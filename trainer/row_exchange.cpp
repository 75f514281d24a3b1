// RowExchange (see row_exchange.h). Every sum over ranks runs in rank order with unique rows
// inside each rank's block, so replicated and row-wise tables get bit-identical gradients.
// Tensors stay on the table's device (the tensor collectives move them: NCCL for CUDA); only
// the per-peer counts come to the host.
#include "trainer/row_exchange.h"

#include "core/check.h"
#include "core/comm/typed.h"

namespace divrec::trainer {

namespace {

std::vector<size_t> to_counts(const torch::Tensor& bincount) {
  auto c = bincount.to(torch::kCPU).contiguous();
  std::vector<size_t> out(static_cast<size_t>(c.numel()));
  const auto* p = c.data_ptr<int64_t>();
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<size_t>(p[i]);
  return out;
}

size_t total(const std::vector<size_t>& counts) {
  size_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

}  // namespace

RowExchange::RowExchange(ShardingPlan plan, int64_t dim, core::Communicator& comm)
    : plan_(plan), dim_(dim), comm_(comm) {
  DIVREC_CHECK(plan_.world == comm.world() && plan_.rank == comm.rank(),
               "row exchange: the sharding plan is for rank ", plan_.rank, " of ", plan_.world,
               ", the communicator is rank ", comm.rank(), " of ", comm.world());
  DIVREC_CHECK(dim_ > 0, "row exchange: dim must be positive, got ", dim_);
}

RowRoute RowExchange::route(const torch::Tensor& ids) {
  DIVREC_CHECK(ids.dim() == 1 && ids.scalar_type() == torch::kInt64,
               "row exchange: ids must be [U] int64, got ", ids.sizes(), " ", ids.scalar_type());
  RowRoute r;
  r.ids = ids.contiguous();
  if (!plan_.row_wise()) return r;
  const int W = plan_.world;
  const auto owner = r.ids.remainder(W);
  r.order = std::get<1>(owner.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  r.send_counts = to_counts(torch::bincount(owner, {}, W));
  r.recv_counts = core::exchange_counts(comm_, r.send_counts);
  const auto send_local = r.ids.index_select(0, r.order).div(W, "floor").contiguous();
  r.served = torch::empty({static_cast<int64_t>(total(r.recv_counts))}, r.ids.options());
  comm_.alltoallv(send_local, r.send_counts, r.served, r.recv_counts);
  stats_.bytes_sent += static_cast<int64_t>(W) * 8 + send_local.numel() * 8;
  ++stats_.exchanges;
  const int64_t local_rows = plan_.local_rows();
  if (r.served.numel() > 0) {
    DIVREC_CHECK(r.served.max().item<int64_t>() < local_rows && r.served.min().item<int64_t>() >= 0,
                 "row exchange: a rank asked rank ", plan_.rank, " for a row it does not own");
  }
  return r;
}

torch::Tensor RowExchange::fetch(const RowRoute& route, const torch::Tensor& local_weight) {
  DIVREC_CHECK(local_weight.dim() == 2 && local_weight.size(0) == plan_.local_rows() &&
                   local_weight.size(1) == dim_,
               "row exchange: local weight must be [", plan_.local_rows(), ", ", dim_, "], got ",
               local_weight.sizes());
  if (!plan_.row_wise()) return local_weight.index_select(0, route.ids);
  const auto serve = local_weight.index_select(0, route.served).contiguous();
  auto received = torch::empty({route.ids.numel(), dim_}, local_weight.options());
  comm_.alltoallv(serve, route.recv_counts, received, route.send_counts);
  stats_.bytes_sent += serve.numel() * 4;
  stats_.rows_sent += serve.size(0);
  // received[k] is the row of ids[order[k]].
  return torch::empty_like(received).index_copy_(0, route.order, received);
}

OwnedGradient RowExchange::merge_blocks(const torch::Tensor& rows, const torch::Tensor& grads,
                                        const std::vector<size_t>& counts, double scale) {
  OwnedGradient out;
  torch::Tensor inverse;
  std::tie(out.local_rows, inverse) = torch::_unique(rows, /*sorted=*/true, /*return_inverse=*/true);
  out.grad = torch::zeros({out.local_rows.numel(), grads.size(1)}, grads.options());
  int64_t offset = 0;
  for (size_t b = 0; b < counts.size(); ++b) {  // rank order: a fixed summation order
    const auto n = static_cast<int64_t>(counts[b]);
    if (n > 0) out.grad.index_add_(0, inverse.narrow(0, offset, n), grads.narrow(0, offset, n));
    offset += n;
  }
  if (scale != 1.0) out.grad.mul_(scale);
  return out;
}

OwnedGradient RowExchange::reduce_gradients(const RowRoute& route, const torch::Tensor& grad,
                                            double scale) {
  const int64_t u = route.ids.numel();
  DIVREC_CHECK(grad.dim() == 2 && grad.size(0) == u && grad.size(1) == dim_ &&
                   grad.scalar_type() == torch::kFloat32,
               "row exchange: gradient must be [", u, ", ", dim_, "] float32, got ", grad.sizes(),
               " ", grad.scalar_type());
  const int W = plan_.world;
  if (plan_.row_wise()) {
    const auto send = grad.index_select(0, route.order).contiguous();
    auto recv = torch::empty({route.served.numel(), dim_}, grad.options());
    comm_.alltoallv(send, route.send_counts, recv, route.recv_counts);
    stats_.bytes_sent += send.numel() * 4;
    stats_.rows_sent += send.size(0);
    ++stats_.exchanges;
    return merge_blocks(route.served, recv, route.recv_counts, scale);
  }
  if (W == 1) return merge_blocks(route.ids, grad.contiguous(), {static_cast<size_t>(u)}, scale);
  // Replicated: every rank gathers every rank's (ids, rows) and merges them identically.
  std::vector<int64_t> sizes(W);
  comm_.allgather(&u, sizes.data(), 1, core::DType::kInt64);
  std::vector<size_t> counts(sizes.begin(), sizes.end());
  const auto n_all = static_cast<int64_t>(total(counts));
  auto ids_t = torch::empty({n_all}, route.ids.options());
  comm_.allgatherv(route.ids, ids_t, counts);
  const auto g = grad.contiguous();
  auto all_grads = torch::empty({n_all, dim_}, grad.options());
  comm_.allgatherv(g, all_grads, counts);
  stats_.bytes_sent += static_cast<int64_t>(W - 1) * (u * 8 + g.numel() * 4);
  stats_.rows_sent += static_cast<int64_t>(W - 1) * u;
  ++stats_.exchanges;
  return merge_blocks(ids_t, all_grads, counts, scale);
}

}  // namespace divrec::trainer
