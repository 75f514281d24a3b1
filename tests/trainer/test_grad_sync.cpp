// GradSync on the threaded fake communicator: bucket assignment (by hand), strict collective
// order, averaging against per-rank gradients computed independently, unused parameters,
// overlap on/off equality, no_sync accumulation, error propagation, stats; plus broadcast and
// clip_grad_norm.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "common/fake_comm.h"
#include "trainer/grad_sync.h"
#include "trainer/tiny_net.h"

using divrec::testing::FakeCommunicator;
using divrec::testing::FakeHub;
using divrec::testing::run_ranks;
using divrec::testing::TinyNet;
using divrec::trainer::GradSync;

using namespace std::chrono_literals;

namespace {

std::vector<torch::Tensor> floats(const std::vector<int64_t>& sizes) {
  std::vector<torch::Tensor> out;
  for (auto n : sizes) out.push_back(torch::zeros({n}));
  return out;
}

// Records the element count of every allreduce.
class RecordingComm : public FakeCommunicator {
 public:
  using FakeCommunicator::FakeCommunicator;
  void allreduce(void* data, size_t count, divrec::core::DType dtype,
                 divrec::core::ReduceOp op) override {
    sizes.push_back(static_cast<int64_t>(count));
    FakeCommunicator::allreduce(data, count, dtype, op);
    ++done;
  }
  using FakeCommunicator::allreduce;
  std::vector<int64_t> sizes;
  std::atomic<int> done{0};  // readable from the main thread while the comm thread works
};

// The mean over ranks of each parameter's gradient, computed on one thread, rank by rank.
std::vector<torch::Tensor> reference_mean(TinyNet init, int world, bool head_on_odd_ranks) {
  std::vector<torch::Tensor> sum;
  for (int r = 0; r < world; ++r) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    net->loss(divrec::testing::tiny_ids(r), head_on_odd_ranks && r % 2 == 1).backward();
    auto g = divrec::testing::grads_of(*net);
    if (sum.empty()) {
      sum = g;
    } else {
      for (size_t i = 0; i < g.size(); ++i) sum[i] = sum[i] + g[i];
    }
  }
  for (auto& s : sum) s = s / static_cast<double>(world);
  return sum;
}

// Each rank: a copy of init, one step on its own ids, grads after finish_step.
std::vector<std::vector<torch::Tensor>> synced_grads(TinyNet init, int world, bool overlap,
                                                     bool head_on_odd_ranks, int64_t cap) {
  std::vector<std::vector<torch::Tensor>> out(world);
  run_ranks(world, [&](FakeCommunicator& c) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    GradSync sync(net->parameters(), {}, c, cap, overlap);
    sync.begin_step();
    net->loss(divrec::testing::tiny_ids(c.rank()), head_on_odd_ranks && c.rank() % 2 == 1)
        .backward();
    sync.finish_step();
    out[c.rank()] = divrec::testing::grads_of(*net);
  });
  return out;
}

void expect_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-7)) << "parameter " << i;
  }
}

}  // namespace

TEST(GradSync, BucketAssignmentByHand) {
  // float32 sizes 10,20,30,5,40 elements = 40,80,120,20,160 bytes, cap 200. Reverse order:
  // p4 (160) -> b0; p3 (+20 = 180) -> b0; p2 (120) -> b1; p1 (+80 = 200 <= cap) -> b1;
  // p0 (+40 = 240 > cap) -> b2.
  auto b = GradSync::assign_buckets(floats({10, 20, 30, 5, 40}), 200);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].params, (std::vector<size_t>{4, 3}));
  EXPECT_EQ(b[0].offsets, (std::vector<int64_t>{0, 40}));
  EXPECT_EQ(b[0].numel, 45);
  EXPECT_EQ(b[0].bytes, 180);
  EXPECT_EQ(b[1].params, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(b[1].offsets, (std::vector<int64_t>{0, 30}));
  EXPECT_EQ(b[1].bytes, 200);
  EXPECT_EQ(b[2].params, (std::vector<size_t>{0}));

  // A parameter over the cap gets a bucket of its own; a dtype change starts a new bucket.
  std::vector<torch::Tensor> mixed = {torch::zeros({2}), torch::zeros({3}, torch::kFloat64),
                                      torch::zeros({4}, torch::kFloat64), torch::zeros({100}),
                                      torch::zeros({1})};
  auto m = GradSync::assign_buckets(mixed, 64);
  // reverse: p4 (4 B) b0; p3 (400 B > cap) b1 alone; p2 (f64, 32 B) b2; p1 (f64, +24 = 56) b2;
  // p0 (f32 after f64) b3.
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].params, (std::vector<size_t>{4}));
  EXPECT_EQ(m[1].params, (std::vector<size_t>{3}));
  EXPECT_EQ(m[2].params, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(m[2].bytes, 56);
  EXPECT_EQ(m[3].params, (std::vector<size_t>{0}));
}

TEST(GradSync, AllreducesInBucketOrderOnEveryRank) {
  TinyNet init;
  // TinyNet parameters: emb 72, fc1.w 60, fc1.b 10, fc2.w 30, fc2.b 3, head.w 20, head.b 2
  // floats. Cap 160 B = 40 floats, reverse: [head.b, head.w] 22; fc2.b +3 = 25; fc2.w +30 > 40
  // -> [fc2.w] 30; fc1.b +10 = 40 -> 40; fc1.w 60 alone; emb 72 alone.
  const std::vector<int64_t> expected = {25, 40, 60, 72};
  std::vector<std::vector<int64_t>> seen(2);
  FakeHub hub(2);
  std::vector<std::thread> threads;
  std::mutex m;
  std::vector<std::string> errors;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      try {
        RecordingComm c(&hub, r);
        TinyNet net;
        divrec::testing::copy_net(*init, *net);
        GradSync sync(net->parameters(), {}, c, 160, true);
        for (int step = 0; step < 2; ++step) {
          net->zero_grad();
          sync.begin_step();
          net->loss(divrec::testing::tiny_ids(r, step), true).backward();
          // Every parameter is used, so all 4 buckets were complete during backward: the comm
          // thread reduces them before finish_step is even called (overlap).
          auto t0 = std::chrono::steady_clock::now();
          while (c.done < 4 * (step + 1) && std::chrono::steady_clock::now() - t0 < 10s) {
            std::this_thread::sleep_for(1ms);
          }
          EXPECT_EQ(c.done.load(), 4 * (step + 1));
          sync.finish_step();
        }
        EXPECT_EQ(c.collectives(), 8);
        seen[r] = c.sizes;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(m);
        errors.push_back(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  std::vector<int64_t> two_steps = expected;
  two_steps.insert(two_steps.end(), expected.begin(), expected.end());
  EXPECT_EQ(seen[0], two_steps);
  EXPECT_EQ(seen[1], two_steps);
}

TEST(GradSync, GradientsAreTheMeanOverRanks) {
  TinyNet init;
  auto want = reference_mean(init, 3, false);
  auto got = synced_grads(init, 3, true, false, 100);
  for (int r = 0; r < 3; ++r) expect_close(got[r], want);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(torch::equal(got[0][i], got[2][i]));
}

TEST(GradSync, UnusedParametersCountAsZero) {
  // The head is used on rank 1 only: its mean gradient is rank 1's / 2, the other ranks'
  // hooks never fire for it.
  TinyNet init;
  auto want = reference_mean(init, 2, true);
  EXPECT_GT(want[5].abs().sum().item<double>(), 0.0);  // head.weight really gets a gradient
  auto got = synced_grads(init, 2, true, true, 64);
  expect_close(got[0], want);
  expect_close(got[1], want);
  // Unused everywhere: defined and zero after finish_step.
  auto none = synced_grads(init, 2, true, false, 64);
  EXPECT_TRUE(torch::equal(none[0][5], torch::zeros({2, 10})));
}

TEST(GradSync, OverlapOnAndOffGiveIdenticalResults) {
  TinyNet init;
  auto on = synced_grads(init, 2, true, true, 100);
  auto off = synced_grads(init, 2, false, true, 100);
  for (int r = 0; r < 2; ++r) {
    for (size_t i = 0; i < on[r].size(); ++i) EXPECT_TRUE(torch::equal(on[r][i], off[r][i]));
  }
}

TEST(GradSync, BackwardOutsideAStepAccumulatesLocally) {
  // no_sync: the first micro-batch's gradient stays local, the second backward (inside the
  // step) sees .grad() = g1 + g2, so the result is the mean over ranks of g1 + g2.
  TinyNet init;
  std::vector<torch::Tensor> want;
  for (int r = 0; r < 2; ++r) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    net->loss(divrec::testing::tiny_ids(r, 0)).backward();
    net->loss(divrec::testing::tiny_ids(r, 1)).backward();
    auto g = divrec::testing::grads_of(*net);
    if (want.empty()) {
      want = g;
    } else {
      for (size_t i = 0; i < g.size(); ++i) want[i] = (want[i] + g[i]) / 2.0;
    }
  }
  run_ranks(2, [&](FakeCommunicator& c) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    GradSync sync(net->parameters(), {}, c, 100, true);
    net->loss(divrec::testing::tiny_ids(c.rank(), 0)).backward();
    EXPECT_EQ(c.collectives(), 0);
    sync.begin_step();
    net->loss(divrec::testing::tiny_ids(c.rank(), 1)).backward();
    sync.finish_step();
    expect_close(divrec::testing::grads_of(*net), want);
  });
}

TEST(GradSync, SecondBackwardInOneStepIsAnError) {
  TinyNet init;
  run_ranks(2, [&](FakeCommunicator& c) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    GradSync sync(net->parameters(), {}, c, 1 << 20, true);
    sync.begin_step();
    net->loss(divrec::testing::tiny_ids(c.rank())).backward();
    try {
      net->loss(divrec::testing::tiny_ids(c.rank())).backward();
      ADD_FAILURE() << "no error";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("produced twice"), std::string::npos) << e.what();
    }
    sync.finish_step();  // the first backward's buckets were complete: finishes normally
  });
}

namespace {
class FailingComm : public FakeCommunicator {
 public:
  using FakeCommunicator::FakeCommunicator;
  void allreduce(void*, size_t, divrec::core::DType, divrec::core::ReduceOp) override {
    throw std::runtime_error("link down");
  }
  using FakeCommunicator::allreduce;
};
}  // namespace

TEST(GradSync, CommunicationErrorsAreRethrownInFinishStep) {
  TinyNet init;
  FakeHub hub(2);
  std::vector<std::thread> threads;
  std::vector<int> caught(2, 0);
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      FailingComm c(&hub, r);
      TinyNet net;
      divrec::testing::copy_net(*init, *net);
      GradSync sync(net->parameters(), {}, c, 100, true);
      sync.begin_step();
      net->loss(divrec::testing::tiny_ids(r)).backward();
      try {
        sync.finish_step();
      } catch (const std::runtime_error& e) {
        caught[r] += std::string(e.what()) == "link down";
      }
      try {
        sync.begin_step();  // stays failed
      } catch (const std::runtime_error& e) {
        caught[r] += std::string(e.what()) == "link down";
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(caught, (std::vector<int>{2, 2}));
}

TEST(GradSync, StatsCountBytesAndBuckets) {
  TinyNet init;
  run_ranks(2, [&](FakeCommunicator& c) {
    TinyNet net;
    divrec::testing::copy_net(*init, *net);
    GradSync sync(net->parameters(), {}, c, 160, true);
    for (int step = 0; step < 3; ++step) {
      net->zero_grad();
      sync.begin_step();
      net->loss(divrec::testing::tiny_ids(c.rank(), step)).backward();
      sync.finish_step();
    }
    auto s = sync.stats();
    EXPECT_EQ(s.steps, 3);
    EXPECT_EQ(s.buckets_reduced, 3 * 4);      // 4 buckets (see the order test)
    EXPECT_EQ(s.bytes_reduced, 3 * 197 * 4);  // 197 floats per step
    EXPECT_GE(s.comm_seconds, 0.0);
    EXPECT_GT(s.wait_seconds, 0.0);
    sync.reset_stats();
    EXPECT_EQ(sync.stats().bytes_reduced, 0);
  });
}

TEST(GradSync, WorldOneLeavesGradientsAndDefinesMissingOnes) {
  divrec::core::LocalCommunicator local;
  TinyNet net;
  GradSync sync(net->parameters(), {}, local);
  sync.begin_step();
  net->loss(divrec::testing::tiny_ids(0)).backward();
  auto before = net->fc1->weight.grad().clone();
  sync.finish_step();
  EXPECT_TRUE(torch::equal(net->fc1->weight.grad(), before));
  EXPECT_TRUE(torch::equal(net->head->weight.grad(), torch::zeros({2, 10})));
  EXPECT_EQ(sync.stats().bytes_reduced, 0);
}

TEST(GradSync, BroadcastParametersCopiesRootValues) {
  run_ranks(3, [&](FakeCommunicator& c) {
    std::vector<torch::Tensor> ts = {torch::full({2, 3}, c.rank() + 1.0),
                                     torch::full({4}, 10.0 * c.rank(), torch::kFloat64)};
    ts[0].set_requires_grad(true);
    divrec::trainer::broadcast_parameters(ts, c, 1);
    EXPECT_TRUE(torch::equal(ts[0], torch::full({2, 3}, 2.0)));
    EXPECT_TRUE(torch::equal(ts[1], torch::full({4}, 10.0, torch::kFloat64)));
  });
}

TEST(GradSync, ClipGradNormByHand) {
  auto a = torch::zeros({2}, torch::requires_grad());
  auto b = torch::zeros({1}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({3.0f, 4.0f});
  b.mutable_grad() = torch::tensor({12.0f});
  // sqrt(9 + 16 + 144) = 13; above 100 nothing changes.
  EXPECT_DOUBLE_EQ(divrec::trainer::clip_grad_norm({a, b}, 100.0), 13.0);
  EXPECT_FLOAT_EQ(a.grad()[1].item<float>(), 4.0f);
  // max 6.5: scale 6.5 / (13 + 1e-6), so b's 12 becomes ~6.0.
  EXPECT_DOUBLE_EQ(divrec::trainer::clip_grad_norm({a, b}, 6.5), 13.0);
  EXPECT_NEAR(b.grad()[0].item<float>(), 12.0 * 6.5 / (13.0 + 1e-6), 1e-5);
  EXPECT_NEAR(a.grad()[0].item<float>(), 1.5, 1e-5);
}
