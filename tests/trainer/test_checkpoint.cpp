// Checkpoints: round trip (tensors, optimizer state, train state, RNG; training continues
// identically), keep-last-K and best.pt, corrupted newest files (truncated, flipped byte) fall
// back to the previous one, disk full (RLIMIT_FSIZE in a forked child) leaves no temp file and
// the previous checkpoint loadable, non-strict partial loads, argument resolution.
#include <gtest/gtest.h>
#include <torch/version.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/fake_comm.h"
#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainer/checkpoint.h"
#include "trainer/tiny_net.h"

namespace fs = std::filesystem;
using namespace divrec::trainer;
using divrec::testing::TinyNet;

namespace {

// Optimizer::state()'s key for a parameter: its TensorImpl's address as a string before torch
// 2.0, the address itself since.
auto state_key(const torch::Tensor& p) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(p.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(p.unsafeGetTensorImpl());
#endif
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    divrec::core::set_log_quiet(true);
    dir_ = (fs::temp_directory_path() /
            ("divrec_ckpt_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One AdamW step on net so the optimizer has state.
  static void train_step(TinyNet& net, torch::optim::Optimizer& opt, int step) {
    opt.zero_grad();
    net->loss(divrec::testing::tiny_ids(0, step), true).backward();
    opt.step();
  }
  static TrainState state_at(int64_t step) {
    TrainState s;
    s.step = step;
    s.epoch = 2;
    s.batch_in_epoch = 17;
    s.best_metric = 0.4375;
    s.best_epoch = 1;
    s.bad_epochs = 1;
    s.config_ini = "[model]\ndim = 64\n\n[optim]\nlr = 0.001 ; note\n";
    s.best_metrics = {{"ndcg@10", 0.4375}, {"recall@10", -std::numeric_limits<double>::infinity()}};
    s.counters = {{"sampler_seed", 18446744073709551615ull}, {"negatives_drawn", 12345}};
    s.extra = {{"git", "abc123"}};
    return s;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/checkpoints")) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
  divrec::core::LocalCommunicator local_;
};

void flip_byte(const std::string& path, size_t pos) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(pos));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(pos));
  f.write(&c, 1);
}

}  // namespace

TEST_F(CheckpointTest, RoundTripContinuesIdentically) {
  TinyNet a;
  a->named_buffers()["scale"].fill_(2.5);
  torch::optim::AdamW opt_a(a->parameters(), torch::optim::AdamWOptions(0.01).weight_decay(0.1));
  train_step(a, opt_a, 0);
  train_step(a, opt_a, 1);
  CheckpointManager mgr(dir_, 3);
  auto path = mgr.save(local_, *a, &opt_a, state_at(2));
  EXPECT_EQ(fs::path(path).filename(), "ckpt-000000002.pt");
  auto rng_after_save = torch::rand({4});  // what a restored generator must draw again

  TinyNet b;  // different random init
  torch::optim::AdamW opt_b(b->parameters(), torch::optim::AdamWOptions(0.5));
  TrainState st;
  auto rep = load_checkpoint(path, *b, &opt_b, st);
  EXPECT_TRUE(rep.missing.empty() && rep.unexpected.empty() && rep.shape_mismatch.empty());
  EXPECT_EQ(rep.loaded.size(), 8u);  // 7 parameters + 1 buffer
  EXPECT_TRUE(rep.optimizer_loaded);
  EXPECT_TRUE(rep.rng_restored);
  EXPECT_TRUE(torch::equal(torch::rand({4}), rng_after_save));

  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& it : pa) EXPECT_TRUE(torch::equal(it.value(), pb[it.key()])) << it.key();
  EXPECT_TRUE(torch::equal(b->named_buffers()["scale"], torch::full({3}, 2.5)));
  // Optimizer: hyper-parameters and per-parameter state.
  auto& ob = static_cast<torch::optim::AdamWOptions&>(opt_b.param_groups()[0].options());
  EXPECT_DOUBLE_EQ(ob.lr(), 0.01);
  EXPECT_DOUBLE_EQ(ob.weight_decay(), 0.1);
  auto pa_list = a->parameters(), pb_list = b->parameters();
  for (size_t i = 0; i < pa_list.size(); ++i) {
    auto& sa = static_cast<torch::optim::AdamWParamState&>(
        *opt_a.state().at(state_key(pa_list[i])));
    auto& sb = static_cast<torch::optim::AdamWParamState&>(
        *opt_b.state().at(state_key(pb_list[i])));
    EXPECT_EQ(sa.step(), sb.step());
    EXPECT_TRUE(torch::equal(sa.exp_avg(), sb.exp_avg()));
    EXPECT_TRUE(torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq()));
  }
  // Train state, including -inf and the largest uint64.
  auto want = state_at(2);
  EXPECT_EQ(st.step, 2);
  EXPECT_EQ(st.epoch, want.epoch);
  EXPECT_EQ(st.batch_in_epoch, want.batch_in_epoch);
  EXPECT_EQ(st.best_metric, want.best_metric);
  EXPECT_EQ(st.best_epoch, want.best_epoch);
  EXPECT_EQ(st.bad_epochs, want.bad_epochs);
  EXPECT_EQ(st.config_ini, want.config_ini);
  EXPECT_EQ(st.best_metrics, want.best_metrics);
  EXPECT_EQ(st.counters, want.counters);
  EXPECT_EQ(st.extra, want.extra);
  // One more step on both: bitwise the same parameters.
  train_step(a, opt_a, 2);
  train_step(b, opt_b, 2);
  for (const auto& it : pa) EXPECT_TRUE(torch::equal(it.value(), pb[it.key()])) << it.key();
}

TEST_F(CheckpointTest, KeepsLastKAndBest) {
  TinyNet net;
  torch::optim::AdamW opt(net->parameters());
  CheckpointManager mgr(dir_, 3);
  for (int64_t step = 1; step <= 5; ++step) mgr.save(local_, *net, &opt, state_at(step), step == 2);
  EXPECT_EQ(files(), (std::vector<std::string>{"best.pt", "ckpt-000000003.pt", "ckpt-000000004.pt",
                                               "ckpt-000000005.pt"}));
  TinyNet other;
  TrainState st;
  load_checkpoint(mgr.best_path(), *other, nullptr, st);
  EXPECT_EQ(st.step, 2);
  EXPECT_EQ(resolve_checkpoint_arg(dir_), mgr.best_path());
  EXPECT_EQ(resolve_checkpoint_arg(mgr.path_for_step(4)), mgr.path_for_step(4));
  fs::remove(mgr.best_path());
  EXPECT_EQ(resolve_checkpoint_arg(dir_), mgr.path_for_step(5));
  EXPECT_EQ(find_resume_checkpoint(dir_, "none"), "");
  EXPECT_EQ(find_resume_checkpoint(dir_ + "/nothing_here"), "");  // fresh run
}

TEST_F(CheckpointTest, CorruptNewestFallsBackToPrevious) {
  TinyNet net;
  torch::optim::AdamW opt(net->parameters());
  CheckpointManager mgr(dir_, 5);
  for (int64_t step = 1; step <= 3; ++step) mgr.save(local_, *net, &opt, state_at(step));
  auto newest = mgr.path_for_step(3);
  EXPECT_EQ(find_resume_checkpoint(dir_), newest);

  // A byte flipped in the middle: footer intact, checksum wrong.
  flip_byte(newest, fs::file_size(newest) / 2);
  auto c = verify_checkpoint_file(newest);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.reason.find("CRC"), std::string::npos) << c.reason;
  EXPECT_EQ(find_resume_checkpoint(dir_), mgr.path_for_step(2));
  TinyNet other;
  TrainState st;
  try {
    load_checkpoint(newest, *other, nullptr, st);
    ADD_FAILURE() << "loaded a corrupt file";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find(newest), std::string::npos) << e.what();
  }

  // Truncated (a crash mid-copy): no footer.
  fs::resize_file(mgr.path_for_step(2), fs::file_size(mgr.path_for_step(2)) - 100);
  EXPECT_FALSE(verify_checkpoint_file(mgr.path_for_step(2)).ok);
  EXPECT_EQ(find_resume_checkpoint(dir_), mgr.path_for_step(1));
  load_checkpoint(find_resume_checkpoint(dir_), *other, nullptr, st);
  EXPECT_EQ(st.step, 1);

  // Nothing valid left: an error, not a silent fresh start.
  fs::resize_file(mgr.path_for_step(1), 10);
  EXPECT_THROW(find_resume_checkpoint(dir_), divrec::Error);
  EXPECT_THROW(find_resume_checkpoint(newest), divrec::Error);  // a file given explicitly
}

TEST_F(CheckpointTest, DiskFullLeavesPreviousCheckpointAndNoTempFile) {
  TinyNet net;
  torch::optim::AdamW opt(net->parameters());
  train_step(net, opt, 0);
  CheckpointManager mgr(dir_, 3);
  mgr.save(local_, *net, &opt, state_at(1));
  auto size = fs::file_size(mgr.path_for_step(1));

  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: files may not grow past half a checkpoint; SIGXFSZ ignored so write() gets EFBIG.
    ::close(pipefd[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{size / 2, size / 2};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    std::string msg = "no error";
    try {
      mgr.save(local_, *net, &opt, state_at(2));
    } catch (const std::exception& e) {
      msg = e.what();
    }
    ssize_t ignored = ::write(pipefd[1], msg.data(), msg.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) msg.append(buf, n);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  EXPECT_NE(msg.find("ckpt-000000002.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("file size limit"), std::string::npos) << msg;
  EXPECT_NE(msg.find("temp file was removed"), std::string::npos) << msg;
  EXPECT_EQ(files(), (std::vector<std::string>{"ckpt-000000001.pt"}));  // no temp, no step 2
  TinyNet other;
  TrainState st;
  load_checkpoint(find_resume_checkpoint(dir_), *other, nullptr, st);
  EXPECT_EQ(st.step, 1);
}

TEST_F(CheckpointTest, NonStrictLoadsMatchingNames) {
  TinyNet src;
  CheckpointManager mgr(dir_, 3);
  auto path = mgr.save(local_, *src, nullptr, state_at(7));
  TinyNet dst(/*out=*/4, /*extra=*/true);  // fc2 is [4, 10] instead of [3, 10]; fc3 is new
  auto fc2_before = dst->fc2->weight.clone();
  TrainState st;
  try {
    load_checkpoint(path, *dst, nullptr, st);
    ADD_FAILURE() << "strict load of a different model succeeded";
  } catch (const divrec::Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("fc2.weight: checkpoint [3, 10] vs model [4, 10]"), std::string::npos) << w;
    EXPECT_NE(w.find("fc3.weight"), std::string::npos) << w;
  }
  EXPECT_EQ(st.step, 0);  // a failed strict load changes nothing
  LoadOptions opts;
  opts.strict = false;
  auto rep = load_checkpoint(path, *dst, nullptr, st, opts);
  EXPECT_EQ(rep.missing, (std::vector<std::string>{"fc3.weight", "fc3.bias"}));
  EXPECT_EQ(rep.shape_mismatch.size(), 2u);  // fc2.weight, fc2.bias
  EXPECT_TRUE(rep.unexpected.empty());
  EXPECT_TRUE(torch::equal(dst->emb->weight, src->emb->weight));
  EXPECT_TRUE(torch::equal(dst->fc1->bias, src->fc1->bias));
  EXPECT_TRUE(torch::equal(dst->fc2->weight, fc2_before));
  EXPECT_EQ(st.step, 7);
  // The reverse direction: tensors in the checkpoint the model lacks are "unexpected".
  auto path2 = CheckpointManager(dir_ + "/b", 3).save(local_, *dst, nullptr, state_at(8));
  TinyNet small(4);
  rep = load_checkpoint(path2, *small, nullptr, st, opts);
  EXPECT_EQ(rep.unexpected, (std::vector<std::string>{"fc3.bias", "fc3.weight"}));
}

TEST_F(CheckpointTest, OnlyRankZeroWritesAndFailuresReachEveryRank) {
  TinyNet net;
  std::vector<std::string> paths(2), errors(2);
  divrec::testing::run_ranks(2, [&](divrec::testing::FakeCommunicator& c) {
    paths[c.rank()] = CheckpointManager(dir_, 3).save(c, *net, nullptr, state_at(4));
  });
  EXPECT_EQ(paths[0], paths[1]);
  EXPECT_EQ(files(), (std::vector<std::string>{"ckpt-000000004.pt"}));
  TrainState st;
  LoadOptions o;
  o.rank = 1;
  o.world = 2;
  EXPECT_TRUE(load_checkpoint(paths[0], *net, nullptr, st, o).rng_restored);
  // A file where the checkpoints directory should be: rank 0 fails, rank 1 gets the message.
  std::ofstream(dir_ + "/blocked") << "x";
  divrec::testing::run_ranks(2, [&](divrec::testing::FakeCommunicator& c) {
    try {
      CheckpointManager(dir_ + "/blocked", 3).save(c, *net, nullptr, state_at(5));
    } catch (const divrec::Error& e) {
      errors[c.rank()] = e.what();
    }
  });
  EXPECT_FALSE(errors[1].empty());
  EXPECT_NE(errors[1].find("blocked"), std::string::npos) << errors[1];
}

TEST_F(CheckpointTest, MismatchedOptimizerFailsStrictlyWithoutSideEffects) {
  TinyNet src;
  torch::optim::AdamW opt_src(src->parameters());
  train_step(src, opt_src, 0);
  auto path = CheckpointManager(dir_, 3).save(local_, *src, &opt_src, state_at(3));
  TinyNet dst;
  auto before = dst->fc1->weight.clone();
  torch::optim::AdamW fc1_only(dst->fc1->parameters());  // one group of 2, not 7 parameters
  TrainState st;
  try {
    load_checkpoint(path, *dst, &fc1_only, st);
    ADD_FAILURE() << "strict load with a different optimizer succeeded";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter groups differ"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(torch::equal(dst->fc1->weight, before));  // nothing changed
  EXPECT_EQ(st.step, 0);
  LoadOptions opts;
  opts.strict = false;
  auto rep = load_checkpoint(path, *dst, &fc1_only, st, opts);
  EXPECT_FALSE(rep.optimizer_loaded);
  EXPECT_TRUE(torch::equal(dst->fc1->weight, src->fc1->weight));
  EXPECT_EQ(st.step, 3);
}
