// Training-throughput companion of `divrec train` (bench/run_train_bench.sh drives both): the
// GEMM peak of this machine at the run's ranks x threads, the model FLOPs of exactly the batches a
// `divrec train` run processed in a step window, and (with --metrics) that run's metrics.jsonl
// reduced to seq/s, compute / communication / wait split and MFU. One JSON line per result.
//   mpirun -n R bench_train --data DIR [--metrics RUN/metrics.jsonl] [--threads T]
//       [--batch-size 128] [--warmup 16] [--steps 32] [--max-len 50] [--dim 64] [--layers 2]
//       [--ffn-dim 0] [--negatives 1] [--seed 42] [--length-buckets 1] [--gemm-n 1024]
//       [--gemm-reps 30] [--label NAME]
// Run it with the same ranks, threads, batch, sizes and seed as the `divrec train` it describes.
//
// Model FLOPs (matmul multiply-adds x 2; LayerNorm, softmax, GELU, dropout, gathers and the
// optimizer are element-wise and not counted, as in the usual MFU definition). For a sequence of
// t real input tokens (t = min(train prefix - 1, max_len); targets = t), D = dim, F = ffn size,
// K = negatives per target, per forward pass:
//   layers x [ 2t(3D^2 + D^2 + 2DF)        qkv, attention output, feed-forward (= 24tD^2, F=4D)
//            + 2D t(t+1) ]                 causal attention on real keys: QK^T and PV, token i
//                                          attends i keys, 2*2*D*i each, summed over i = 1..t
//   + 2D(1+K) t                            BCE logits of the positive and K negatives
// Training = 3 x forward (backward computes both the input and the weight gradient of every
// matmul). Padding is not model work: an implementation that pads to max_len does more
// hardware FLOPs for the same model FLOPs, so its MFU is lower.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/comm/factory.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "core/threads.h"
#include "data_shards/reader.h"
#include "trainer/trainer.h"

using namespace divrec;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string data, metrics, label;
  int threads = 0;
  int64_t batch = 128, warmup = 16, steps = 32, max_len = 50, dim = 64, layers = 2, ffn_dim = 0;
  int64_t negatives = 1, gemm_n = 1024, gemm_reps = 30;
  uint64_t seed = 42;
  bool length_buckets = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    DIVREC_CHECK(i + 1 < argc, "bench_train: option ", a, " needs a value");
    std::string v = argv[i + 1];
    auto num = [&] { return std::atoll(v.c_str()); };
    if (a == "--data")
      o.data = v;
    else if (a == "--metrics")
      o.metrics = v;
    else if (a == "--label")
      o.label = v;
    else if (a == "--threads")
      o.threads = static_cast<int>(num());
    else if (a == "--batch-size")
      o.batch = num();
    else if (a == "--warmup")
      o.warmup = num();
    else if (a == "--steps")
      o.steps = num();
    else if (a == "--max-len")
      o.max_len = num();
    else if (a == "--dim")
      o.dim = num();
    else if (a == "--layers")
      o.layers = num();
    else if (a == "--ffn-dim")
      o.ffn_dim = num();
    else if (a == "--negatives")
      o.negatives = num();
    else if (a == "--seed")
      o.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--length-buckets")
      o.length_buckets = num() != 0;
    else if (a == "--gemm-n")
      o.gemm_n = num();
    else if (a == "--gemm-reps")
      o.gemm_reps = num();
    else
      DIVREC_FAIL("bench_train: unknown option '", a, "'");
  }
  DIVREC_CHECK(!o.data.empty(), "bench_train: --data DIR is required");
  DIVREC_CHECK(o.steps > 0 && o.warmup >= 0, "bench_train: --steps must be > 0, --warmup >= 0");
  return o;
}

// Per-sequence forward FLOPs of the formula in the file comment.
double forward_flops(int64_t t, const Options& o) {
  const double D = static_cast<double>(o.dim);
  const double F = static_cast<double>(o.ffn_dim > 0 ? o.ffn_dim : 4 * o.dim);
  const double T = static_cast<double>(t);
  const double per_layer = 2 * T * (4 * D * D + 2 * D * F) + 2 * D * T * (T + 1);
  return static_cast<double>(o.layers) * per_layer +
         2 * D * static_cast<double>(1 + o.negatives) * T;
}

// All ranks multiply n x n floats at the same time (they share the machine's cores, as the
// training ranks do). Per rank: the best single product and the mean rate over all of them.
nlohmann::json gemm_peak(core::Communicator& comm, const Options& o, int threads) {
  const int64_t n = o.gemm_n;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up: thread pool, BLAS buffers
  const double flop = 2.0 * static_cast<double>(n) * n * n;
  comm.barrier();
  double best = 0;
  auto t_all = Clock::now();
  for (int64_t r = 0; r < o.gemm_reps; ++r) {
    auto t0 = Clock::now();
    torch::mm_out(c, a, b);
    best = std::max(best, flop / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  double mean = flop * static_cast<double>(o.gemm_reps) /
                std::chrono::duration<double>(Clock::now() - t_all).count();
  auto bests = core::allgatherv(comm, std::vector<double>{best / 1e9});
  auto means = core::allgatherv(comm, std::vector<double>{mean / 1e9});
  double sum_best = 0, sum_mean = 0;
  for (size_t r = 0; r < bests.size(); ++r) sum_best += bests[r], sum_mean += means[r];
  return {{"kind", "gemm_peak"},
          {"ranks", comm.world()},
          {"threads_per_rank", threads},
          {"n", n},
          {"reps", o.gemm_reps},
          {"gflops_best", sum_best},
          {"gflops_mean", sum_mean},
          {"rank_gflops_best", bests},
          {"blas_threads", core::blas_threads()}};
}

struct WindowCount {
  double tokens = 0, padded_dynamic = 0, padded_max_len = 0, flops = 0;
  int64_t sequences = 0, steps = 0;
};

// The batches `divrec train` (next-item) processed in steps [warmup, warmup + steps) on this
// rank: the same trainable users, lengths and epoch_plan as trainer::train.
WindowCount count_window(const data::UserSequences& seqs, const Options& o, int rank, int world,
                         double* dataset_flops_per_seq, double* dataset_tokens_per_seq) {
  std::vector<int64_t> lengths, tokens;
  for (int64_t u = 0; u < seqs.num_users(); ++u) {
    int64_t n = seqs.history_end(u, data::Split::kTrain);
    if (n < 2) continue;  // not trainable (as trainer::train)
    lengths.push_back(std::min<int64_t>(n, o.max_len + 1));
    tokens.push_back(std::min<int64_t>(n - 1, o.max_len));
  }
  DIVREC_CHECK(!lengths.empty(), "bench_train: dataset '", o.data, "' has no trainable user");
  double f = 0, t = 0;
  for (auto k : tokens) f += 3 * forward_flops(k, o), t += static_cast<double>(k);
  *dataset_flops_per_seq = f / static_cast<double>(tokens.size());
  *dataset_tokens_per_seq = t / static_cast<double>(tokens.size());

  WindowCount w;
  std::vector<std::vector<int64_t>> plan;
  int64_t plan_epoch = -1;
  const int64_t nb = static_cast<int64_t>(
      trainer::epoch_plan(lengths, o.batch, rank, world, o.seed, 0, false).size());
  for (int64_t s = o.warmup; s < o.warmup + o.steps; ++s) {
    const int64_t epoch = s / nb;
    if (epoch != plan_epoch) {
      plan = trainer::epoch_plan(lengths, o.batch, rank, world, o.seed, epoch, o.length_buckets);
      plan_epoch = epoch;
    }
    const auto& batch = plan[s % nb];
    int64_t longest = 1;
    for (auto i : batch) {
      w.tokens += static_cast<double>(tokens[i]);
      w.flops += 3 * forward_flops(tokens[i], o);
      longest = std::max(longest, tokens[i]);
    }
    w.padded_dynamic += static_cast<double>(longest * static_cast<int64_t>(batch.size()));
    w.padded_max_len += static_cast<double>(o.max_len * static_cast<int64_t>(batch.size()));
    w.sequences += static_cast<int64_t>(batch.size());
    ++w.steps;
  }
  return w;
}

// The `divrec train` log lines whose windows lie inside [warmup, warmup + steps), combined
// step-weighted. Fails when the run did not log exactly that window.
nlohmann::json reduce_metrics(const Options& o, int world, double window_flops, double peak) {
  std::ifstream in(o.metrics);
  DIVREC_CHECK(in.good(), "bench_train: cannot read --metrics '", o.metrics, "'");
  double time_s = 0, seqs = 0, comm_ms = 0, wait_ms = 0, steps = 0;
  std::vector<double> rank_ms(world, 0.0);
  int64_t prev_step = 0, last_step = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") != "train") continue;
    const int64_t step = j["step"].get<int64_t>();
    const double n = static_cast<double>(step - prev_step);
    prev_step = step;
    if (step <= o.warmup || step > o.warmup + o.steps) continue;
    const double ms = j["ms_per_step"].get<double>();
    time_s += n * ms / 1000;
    seqs += j["seq_per_s"].get<double>() * n * ms / 1000;
    comm_ms += n * j["comm_ms_per_step"].get<double>();
    wait_ms += n * j["wait_ms_per_step"].get<double>();
    auto r = j["rank_ms_per_step"].get<std::vector<double>>();
    DIVREC_CHECK(static_cast<int>(r.size()) == world, "bench_train: '", o.metrics, "' comes from ",
                 r.size(), " ranks, this bench runs with ", world);
    // trainer.cpp logs seconds under this key at the time of writing; rank 0's entry is the
    // ms_per_step of the same window, so the unit is recognisable either way.
    const double unit = std::abs(r[0] * 1000 - ms) < std::abs(r[0] - ms) ? 1000.0 : 1.0;
    for (int k = 0; k < world; ++k) rank_ms[k] += n * r[k] * unit;
    steps += n;
    last_step = step;
  }
  DIVREC_CHECK(steps == o.steps && last_step == o.warmup + o.steps, "bench_train: '", o.metrics,
               "' logs ", steps, " steps inside the window (", o.warmup, ", ", o.warmup + o.steps,
               "]; run divrec train with --max-steps ", o.warmup + o.steps,
               " and a --log-every dividing both ", o.warmup, " and ", o.steps);
  for (auto& r : rank_ms) r /= steps;
  const double ms = 1000 * time_s / steps;
  const double achieved = window_flops / time_s;
  return {{"kind", "train"},
          {"ranks", world},
          {"steps", steps},
          {"ms_per_step", ms},
          {"rank_ms_per_step", rank_ms},
          {"seq_per_s", seqs / time_s},
          {"compute_ms_per_step", ms - wait_ms / steps},
          {"comm_ms_per_step", comm_ms / steps},
          {"wait_ms_per_step", wait_ms / steps},
          {"comm_hidden_fraction", comm_ms > 0 ? 1 - wait_ms / comm_ms : 1.0},
          {"model_gflops_per_s", achieved / 1e9},
          {"mfu", achieved / (peak * 1e9)}};
}

}  // namespace

int main(int argc, char** argv) {
  auto comm = core::make_communicator("auto", &argc, &argv);
  core::set_log_rank(comm->rank(), comm->world());
  core::set_log_quiet(true);
  try {
    const Options o = parse(argc, argv);
    const int threads = core::resolve_threads(o.threads);
    core::configure_threads(threads);
    auto print = [&](nlohmann::json j) {
      if (comm->rank() != 0) return;
      j["bench"] = "train";
      if (!o.label.empty()) j["label"] = o.label;
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    };

    auto peak = gemm_peak(*comm, o, threads);
    print(peak);

    auto seqs = data::read_all_users(o.data);
    double ds_flops = 0, ds_tokens = 0;
    auto w = count_window(seqs, o, comm->rank(), comm->world(), &ds_flops, &ds_tokens);
    std::vector<double> sums = {w.tokens, w.padded_dynamic, w.padded_max_len, w.flops,
                                static_cast<double>(w.sequences)};
    core::allreduce_sum(*comm, sums);
    print({{"kind", "model_flops"},
           {"ranks", comm->world()},
           {"batch_per_rank", o.batch},
           {"window_steps", {o.warmup, o.warmup + o.steps}},
           {"window_sequences", sums[4]},
           {"window_real_tokens", sums[0]},
           {"real_fraction_of_dynamic_padding", sums[0] / sums[1]},
           {"real_fraction_of_max_len_padding", sums[0] / sums[2]},
           {"window_gflops", sums[3] / 1e9},
           {"gflops_per_step", sums[3] / 1e9 / static_cast<double>(o.steps)},
           {"dataset_mflops_per_seq", ds_flops / 1e6},
           {"dataset_tokens_per_seq", ds_tokens},
           {"dataset_real_fraction_of_max_len", ds_tokens / static_cast<double>(o.max_len)}});

    if (!o.metrics.empty()) {
      nlohmann::json j;
      if (comm->rank() == 0) {
        j = reduce_metrics(o, comm->world(), sums[3], peak["gflops_best"].get<double>());
        j["threads_per_rank"] = threads;
        j["batch_per_rank"] = o.batch;
        j["gemm_peak_gflops"] = peak["gflops_best"];
      }
      print(j);
    }
    comm->barrier();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    comm->abort(1);
    return 1;
  }
  return 0;
}
