// Projection of the catalog's content vectors (foundation-model embeddings, often stored in
// bf16/fp16) through the item encoder's content Linear, in row chunks: neither the forward pass
// nor autograd ever holds an fp32 copy of the whole content matrix.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace divrec::model {

// Rows widened at once: about 32 MiB of fp32 per chunk (e.g. 2,730 rows of 3,072-d vectors).
int64_t content_chunk_rows(int64_t content_dim);

// content [N, C] fp32 | bf16 | fp16 (data: never receives a gradient); weight [D, C] and
// bias [D] (may be undefined) as torch::nn::Linear holds them, fp32 -> [N, D]
// = content.to(weight.dtype) @ weight^T + bias (torch.nn.functional.linear).
// - Content already in weight's dtype: plain linear (autograd keeps a reference, no copy).
// - Under autocast on content's device (--precision bf16): linear on the 16-bit content as it
//   is; autocast runs the product in bf16 and autograd saves the 16-bit input.
// - Otherwise (16-bit content, fp32 product): a custom autograd function widens `chunk_rows`
//   rows at a time in forward, and in backward recomputes the widened chunks to accumulate
//   dL/dweight = sum_chunks g_chunk^T x_chunk and dL/dbias = sum_rows g (so the saved state is
//   the 16-bit content itself). Row order of the sums differs from one fused product only in
//   rounding.
// chunk_rows <= 0 picks content_chunk_rows(C). Throws (file:line) when the shapes disagree,
// content is not 2-D floating point, requires grad, or is on another device than weight.
torch::Tensor project_content(const torch::Tensor& content, const torch::Tensor& weight,
                              const torch::Tensor& bias, int64_t chunk_rows = 0);

}  // namespace divrec::model
