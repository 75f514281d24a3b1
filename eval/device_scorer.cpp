// Batched encoding, scoring and top-N on a device (see device_scorer.h).
#include "eval/device_scorer.h"

#include <algorithm>
#include <limits>

#include "core/check.h"

namespace divrec::eval {

DeviceScorer::DeviceScorer(model::SeqModel model, const torch::Tensor& item_table, bool causal,
                           torch::Device device, model::Precision precision)
    : model_(std::move(model)), causal_(causal), device_(device), precision_(precision) {
  const int64_t I = model_->config().num_items;
  DIVREC_CHECK(item_table.dim() == 2 && item_table.size(0) == I,
               "DeviceScorer: the item table must be [", I, ", D], got ", item_table.sizes());
  model_->to(device_);
  model_->eval();
  table_ = item_table.to(device_, torch::kFloat32).contiguous();
}

void DeviceScorer::top_n(const model::ExcludeList* histories, int64_t B, int64_t n,
                         model::TopN& out) {
  DIVREC_CHECK(n >= 1 && B >= 0, "DeviceScorer::top_n: n must be >= 1 and B >= 0, got ", n, ", ",
               B);
  out.n = n;
  out.items.assign(static_cast<size_t>(B * n), -1);
  out.scores.assign(static_cast<size_t>(B * n), -std::numeric_limits<float>::infinity());
  out.count.assign(static_cast<size_t>(B), 0);
  // Chunks of users whose [rows, I] score matrix stays near 2^27 values (0.5 GiB in fp32).
  const int64_t I = table_.size(0);
  const int64_t rows = std::max<int64_t>(1, (int64_t(1) << 27) / std::max<int64_t>(I, 1));
  for (int64_t b0 = 0; b0 < B; b0 += rows) {
    const int64_t nb = std::min(rows, B - b0);
    top_n_chunk(histories + b0, nb, n, out.scores.data() + b0 * n, out.items.data() + b0 * n,
                out.count.data() + b0);
  }
}

void DeviceScorer::top_n_chunk(const model::ExcludeList* histories, int64_t B, int64_t n,
                               float* scores_out, int32_t* items_out, int* count_out) {
  c10::InferenceMode guard;
  const int64_t I = table_.size(0);
  const int64_t L = model_->config().max_len;
  // Input ids (item i -> i + 1), the last max_len items left-padded; every history item masked.
  auto ids = torch::zeros({B, L}, torch::kInt64);
  auto* p = ids.data_ptr<int64_t>();
  std::vector<int64_t> mask_rows, mask_cols;
  for (int64_t b = 0; b < B; ++b) {
    const auto& h = histories[b];
    DIVREC_CHECK(h.n > 0 && h.ids != nullptr, "DeviceScorer: user ", b, " has an empty history");
    const int64_t used = std::min<int64_t>(h.n, L);
    for (int64_t j = 0; j < h.n; ++j) {
      const int32_t item = h.ids[j];
      DIVREC_CHECK(item >= 0 && item < I, "history item ", item, " is outside [0, ", I, ")");
      mask_rows.push_back(b);
      mask_cols.push_back(item);
      if (j >= h.n - used) p[b * L + (L - h.n + j)] = item + 1;
    }
  }
  auto in = ids.to(device_);
  torch::Tensor scores;
  {
    model::AutocastScope autocast(precision_, device_);
    torch::Tensor users;
    if (causal_) {
      users = model_->encode(in, true, table_).select(1, L - 1);
    } else {
      auto mask = torch::full({B, 1}, model_->mask_token(), in.options());
      users = model_->encode(torch::cat({in.narrow(1, 1, L - 1), mask}, 1), false, table_)
                  .select(1, L - 1);
    }
    scores = model::to_fp32(torch::matmul(model::to_fp32(users), table_.t()));
  }
  scores = scores.contiguous();
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device_);
  scores.index_put_({torch::tensor(mask_rows, opts), torch::tensor(mask_cols, opts)},
                    -std::numeric_limits<float>::infinity());
  const int64_t k = std::min(n, I);
  auto sorted = torch::sort(scores, /*stable=*/true, /*dim=*/1, /*descending=*/true);
  auto top_s = std::get<0>(sorted).narrow(1, 0, k).to(torch::kCPU).contiguous();
  auto top_i = std::get<1>(sorted).narrow(1, 0, k).to(torch::kCPU, torch::kInt32).contiguous();
  const float* s = top_s.data_ptr<float>();
  const int32_t* it = top_i.data_ptr<int32_t>();
  for (int64_t b = 0; b < B; ++b) {
    int c = 0;
    for (int64_t j = 0; j < k && s[b * k + j] > -std::numeric_limits<float>::infinity(); ++j) {
      scores_out[b * n + j] = s[b * k + j];
      items_out[b * n + j] = it[b * k + j];
      ++c;
    }
    count_out[b] = c;
  }
}

}  // namespace divrec::eval
