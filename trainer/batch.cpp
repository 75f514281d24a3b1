// Batch construction (see batch.h).
#include "trainer/batch.h"

#include <torch/torch.h>

#include <algorithm>

namespace divrec::trainer {

namespace {

// Fills row b of a [B, L] left-padded tensor with items[begin, end) mapped to input ids (+1).
void fill_row(int64_t* row, int64_t L, const int32_t* items, int64_t n) {
  std::fill(row, row + (L - n), 0);
  for (int64_t i = 0; i < n; ++i) row[L - n + i] = static_cast<int64_t>(items[i]) + 1;
}

}  // namespace

SeqBatch make_next_item_batch(const data::UserSequences& seqs, const std::vector<int64_t>& users,
                              int64_t max_len) {
  const int64_t B = static_cast<int64_t>(users.size());
  std::vector<int64_t> lens(B);
  int64_t L = 1;
  for (int64_t b = 0; b < B; ++b) {
    int64_t n = seqs.history_end(users[b], data::Split::kTrain);  // train prefix length
    lens[b] = std::min<int64_t>(std::max<int64_t>(n - 1, 0), max_len);
    L = std::max(L, lens[b]);
  }
  SeqBatch out;
  out.inputs = torch::zeros({B, L}, torch::kInt64);
  out.targets = torch::full({B, L}, -1, torch::kInt64);
  auto* in = out.inputs.data_ptr<int64_t>();
  auto* tg = out.targets.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const int32_t* s = seqs.seq(users[b]);
    int64_t n = seqs.history_end(users[b], data::Split::kTrain);
    int64_t m = lens[b];
    if (m == 0) continue;
    int64_t start = n - 1 - m;  // inputs s[start, n-1), targets s[start+1, n)
    fill_row(in + b * L, L, s + start, m);
    for (int64_t i = 0; i < m; ++i) tg[b * L + (L - m) + i] = s[start + 1 + i];
    out.num_targets += m;
    out.num_tokens += m;
  }
  return out;
}

SeqBatch make_history_batch(const data::UserSequences& seqs, const std::vector<int64_t>& users,
                            int64_t max_len, data::Split split) {
  const int64_t B = static_cast<int64_t>(users.size());
  std::vector<int64_t> lens(B);
  int64_t L = 1;
  for (int64_t b = 0; b < B; ++b) {
    lens[b] = std::min<int64_t>(seqs.history_end(users[b], split), max_len);
    L = std::max(L, lens[b]);
  }
  SeqBatch out;
  out.inputs = torch::zeros({B, L}, torch::kInt64);
  auto* in = out.inputs.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    int64_t end = seqs.history_end(users[b], split);
    fill_row(in + b * L, L, seqs.seq(users[b]) + (end - lens[b]), lens[b]);
    out.num_tokens += lens[b];
  }
  return out;
}

torch::Tensor history_category_distribution(const data::UserSequences& seqs,
                                            const std::vector<int64_t>& users,
                                            const data::ItemTable& items, data::Split split) {
  const int64_t B = static_cast<int64_t>(users.size());
  const int64_t C = std::max<int64_t>(items.num_categories, 1);
  auto dist = torch::zeros({B, C}, torch::kFloat32);
  auto* d = dist.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b) {
    int64_t end = seqs.history_end(users[b], split);
    const int32_t* s = seqs.seq(users[b]);
    double total = 0;
    for (int64_t i = 0; i < end; ++i) {
      int32_t c = items.category[s[i]];
      if (c < 0) continue;
      d[b * C + c] += 1.0f;
      total += 1.0;
    }
    if (total > 0) {
      for (int64_t c = 0; c < C; ++c) d[b * C + c] = static_cast<float>(d[b * C + c] / total);
    }
  }
  return dist;
}

}  // namespace divrec::trainer
