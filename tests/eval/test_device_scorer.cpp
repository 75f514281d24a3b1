// DeviceScorer (eval --device cuda's candidates) against the CPU path (model::encode_history +
// model::score_top_n) on a small random model: the same candidates with scores within 1e-5
// (the orders of summation differ), history excluded, and, where item vectors are duplicated so
// scores tie exactly, the same lists (ties to the lower id). Runs on the CPU device always and
// on CUDA where a GPU is visible; masked-item models too.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <set>

#include "eval/device_scorer.h"
#include "trainer/model/scoring.h"

using namespace divrec;

namespace {

model::SeqModel small_model(int64_t items) {
  model::ModelConfig mc;
  mc.num_items = items;
  mc.dim = 16;
  mc.layers = 1;
  mc.heads = 2;
  mc.max_len = 8;
  mc.use_category = false;
  mc.use_attributes = false;
  mc.use_content = false;
  torch::manual_seed(12);
  model::SeqModel m(mc, model::ItemFeatures::ids_only(items));
  m->eval();
  return m;
}

std::vector<std::vector<int32_t>> histories(int64_t items) {
  std::vector<std::vector<int32_t>> h;
  for (int u = 0; u < 9; ++u) {
    std::vector<int32_t> s;
    for (int j = 0; j < 1 + (u * 3) % 13; ++j) s.push_back((u * 37 + j * 11) % items);
    h.push_back(s);
  }
  return h;
}

void compare(bool causal, torch::Device device, bool duplicate_rows) {
  const int64_t I = 120, n = 30;
  auto m = small_model(I);
  torch::Tensor table;
  {
    torch::NoGradGuard ng;
    table = m->item_vectors().contiguous();
    // Items 2k and 2k+1 identical: every score ties with a neighbour's.
    if (duplicate_rows) table = table.index_select(0, torch::arange(0, I, 2).repeat_interleave(2)).contiguous();
  }
  auto hs = histories(I);
  const int64_t B = static_cast<int64_t>(hs.size());
  std::vector<model::ExcludeList> ex;
  for (auto& h : hs) ex.push_back({h.data(), static_cast<int64_t>(h.size())});

  std::vector<float> users(static_cast<size_t>(B * table.size(1)));
  for (int64_t b = 0; b < B; ++b) {
    model::encode_history(*m, table, causal, hs[b].data(), ex[b].n,
                          users.data() + b * table.size(1));
  }
  model::ScoreTable st(table.data_ptr<float>(), I, table.size(1), model::ScorePrecision::kFp32);
  model::TopN want;
  model::score_top_n(st, users.data(), B, n, ex.data(), model::ScoreOptions{}, want);

  eval::DeviceScorer scorer(m, table, causal, device, model::Precision::kFp32);
  model::TopN got;
  scorer.top_n(ex.data(), B, n, got);
  ASSERT_EQ(got.n, n);
  for (int64_t b = 0; b < B; ++b) {
    ASSERT_EQ(got.count[b], want.count[b]) << "user " << b;
    std::set<int32_t> hist(hs[b].begin(), hs[b].end());
    for (int j = 0; j < got.count[b]; ++j) {
      const auto k = static_cast<size_t>(b * n + j);
      EXPECT_EQ(hist.count(got.items[k]), 0u) << "history item listed";
      EXPECT_NEAR(got.scores[k], want.scores[k], 1e-5) << "user " << b << " rank " << j;
      // Away from near-ties the ids agree; with duplicated rows every tie is exact and the
      // lower id goes first on both paths.
      const bool clear = (j == 0 || want.scores[k - 1] - want.scores[k] > 1e-4) &&
                         (j + 1 == want.count[b] || want.scores[k] - want.scores[k + 1] > 1e-4);
      if (clear || duplicate_rows) {
        EXPECT_EQ(got.items[k], want.items[k]) << "user " << b << " rank " << j;
      }
    }
  }
}

TEST(DeviceScorer, CpuDeviceMatchesKernelCausal) { compare(true, torch::kCPU, false); }
TEST(DeviceScorer, CpuDeviceMatchesKernelMasked) { compare(false, torch::kCPU, false); }
TEST(DeviceScorer, TiesGoToLowerIdLikeTheKernel) { compare(true, torch::kCPU, true); }
TEST(DeviceScorer, CudaMatchesKernel) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU visible (or a CPU-only LibTorch)";
  compare(true, torch::Device(torch::kCUDA, 0), false);
  compare(false, torch::Device(torch::kCUDA, 0), true);
}

TEST(DeviceScorer, RejectsEmptyHistoryAndBadIds) {
  auto m = small_model(50);
  torch::Tensor table;
  {
    torch::NoGradGuard ng;
    table = m->item_vectors().contiguous();
  }
  eval::DeviceScorer scorer(m, table, true, torch::kCPU, model::Precision::kFp32);
  model::TopN out;
  std::vector<int32_t> bad = {3, 50};
  model::ExcludeList e{bad.data(), 2};
  EXPECT_THROW(scorer.top_n(&e, 1, 5, out), std::exception);
  model::ExcludeList empty{bad.data(), 0};
  EXPECT_THROW(scorer.top_n(&empty, 1, 5, out), std::exception);
}

}  // namespace
