// Shape-invariant single-user encoding shared by eval and serving (see scoring.h).
#include "trainer/model/scoring.h"

#include <algorithm>

#include "core/check.h"

namespace divrec::model {

void encode_history(SeqModelImpl& model, const torch::Tensor& item_table, bool causal,
                    const int32_t* history, int64_t n, float* out, const torch::Tensor& table_ids) {
  DIVREC_CHECK(n > 0, "encode_history needs a non-empty history");
  const int64_t I = model.config().num_items;
  const int64_t L = model.config().max_len;
  const int64_t rows = table_ids.defined() ? table_ids.numel() : I;
  DIVREC_CHECK(item_table.dim() == 2 && item_table.size(0) == rows &&
                   item_table.scalar_type() == torch::kFloat32,
               "encode_history: item table must be float32 [", rows, ", D], got ",
               item_table.sizes());
  c10::InferenceMode guard;
  // Input ids: item i -> id i + 1, the last max_len items left-padded with 0 to max_len.
  const int64_t used = std::min<int64_t>(n, L);
  auto ids = torch::zeros({1, L}, torch::kInt64);
  auto* p = ids.data_ptr<int64_t>();
  for (int64_t j = 0; j < used; ++j) {
    const int32_t item = history[n - used + j];
    DIVREC_CHECK(item >= 0 && item < I, "history item ", item, " is outside [0, ", I, ")");
    p[L - used + j] = item + 1;
  }
  torch::Tensor user;
  if (causal) {
    user = model.encode(ids, true, item_table, table_ids).select(1, L - 1);
  } else {
    auto mask = torch::full({1, 1}, model.mask_token(), torch::kInt64);
    auto in = torch::cat({ids.narrow(1, 1, L - 1), mask}, 1);
    user = model.encode(in, false, item_table, table_ids).select(1, L - 1);
  }
  user = user.to(torch::kFloat32).contiguous();
  DIVREC_CHECK(user.numel() == item_table.size(1), "encode_history: user vector has ", user.numel(),
               " values, item vectors ", item_table.size(1));
  std::copy_n(user.data_ptr<float>(), item_table.size(1), out);
}

}  // namespace divrec::model
