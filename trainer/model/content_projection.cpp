// Row-chunked content projection with a recomputing backward (see content_projection.h).
#include "trainer/model/content_projection.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/check.h"
#include "trainer/model/precision.h"

namespace divrec::model {

namespace {

constexpr int64_t kChunkBytes = int64_t{32} << 20;

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// y = widen(x) W^T + b over row chunks of x; x is saved as stored (16-bit), not widened. b is
// always defined (zeros when the Linear has none: no gradient is returned for it then).
struct ChunkedContentLinear : torch::autograd::Function<ChunkedContentLinear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& content,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t chunk_rows) {
    const int64_t n = content.size(0);
    auto out = torch::empty({n, weight.size(0)}, weight.options());
    const auto wt = weight.t();
    for (int64_t begin = 0; begin < n; begin += chunk_rows) {
      const int64_t len = std::min(chunk_rows, n - begin);
      const auto x = content.narrow(0, begin, len).to(weight.scalar_type());
      auto y = out.narrow(0, begin, len);
      torch::addmm_out(y, bias, x, wt);
    }
    ctx->save_for_backward({content, weight});
    ctx->saved_data["chunk_rows"] = chunk_rows;
    ctx->saved_data["has_bias"] = bias.requires_grad();
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& content = saved[0];
    const auto& weight = saved[1];
    const int64_t chunk_rows = ctx->saved_data["chunk_rows"].toInt();
    const auto g = grads[0].to(weight.scalar_type());  // [N, D]
    auto grad_weight = torch::zeros_like(weight);      // [D, C]
    for (int64_t begin = 0; begin < content.size(0); begin += chunk_rows) {
      const int64_t len = std::min(chunk_rows, content.size(0) - begin);
      grad_weight.addmm_(g.narrow(0, begin, len).t(),
                         content.narrow(0, begin, len).to(weight.scalar_type()));
    }
    torch::Tensor grad_bias;
    if (ctx->saved_data["has_bias"].toBool()) grad_bias = g.sum(0);
    return {torch::Tensor(), grad_weight, grad_bias, torch::Tensor()};
  }
};

}  // namespace

int64_t content_chunk_rows(int64_t content_dim) {
  return std::max<int64_t>(1, kChunkBytes / (4 * std::max<int64_t>(1, content_dim)));
}

torch::Tensor project_content(const torch::Tensor& content, const torch::Tensor& weight,
                              const torch::Tensor& bias, int64_t chunk_rows) {
  DIVREC_CHECK(content.dim() == 2 && content.is_floating_point(),
               "content projection: content must be a 2-D floating-point matrix, got ",
               content.sizes(), " ", content.scalar_type());
  DIVREC_CHECK(weight.dim() == 2 && weight.size(1) == content.size(1),
               "content projection: weight must be [D, ", content.size(1), "], got ",
               weight.sizes());
  DIVREC_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)),
               "content projection: bias must be [", weight.size(0), "], got ", bias.sizes());
  DIVREC_CHECK(!content.requires_grad(),
               "content projection: content is data and gets no gradient; detach it first");
  DIVREC_CHECK(content.device() == weight.device(), "content projection: content is on ",
               content.device(), ", the projection on ", weight.device());
  if (content.scalar_type() == weight.scalar_type() || autocast_active(content.device())) {
    return torch::nn::functional::linear(content, weight, bias);
  }
  if (chunk_rows <= 0) chunk_rows = content_chunk_rows(content.size(1));
  // Custom functions take no undefined tensors: a missing bias is a constant zero row.
  const auto b = bias.defined() ? bias : torch::zeros({weight.size(0)}, weight.options());
  return ChunkedContentLinear::apply(content, weight, b, chunk_rows);
}

}  // namespace divrec::model
