// The epoch/step loop (see trainer.h).
#include "trainer/trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/watchdog.h"
#include "data_shards/reader.h"
#include "data_shards/sampler.h"
#include "trainer/batch.h"
#include "trainer/checkpoint.h"
#include "trainer/grad_sync.h"
#include "trainer/item_table_checkpoint.h"
#include "trainer/model/catalog_sizes.h"
#include "trainer/model/config_io.h"
#include "trainer/model/cpu_bf16.h"
#include "trainer/model/device.h"
#include "trainer/model/precision.h"
#include "trainer/model/seq_model.h"
#include "trainer/optim.h"
#include "trainer/step_log.h"
#include "trainer/step_loss.h"
#include "trainer/validation.h"

namespace divrec::trainer {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The sparse item table of a run, or null (dense table, or no item-id feature).
std::unique_ptr<ShardedItemTable> make_item_table(const TrainConfig& cfg,
                                                  const model::ModelConfig& mc,
                                                  core::Communicator& comm, torch::Device device) {
  if (!mc.external_item_table) return nullptr;
  ShardingPlan plan;
  plan.kind = parse_sharding(cfg.embedding_sharding);
  plan.num_rows = mc.num_items;
  plan.rank = comm.rank();
  plan.world = comm.world();
  SparseOptimConfig so;
  so.kind = cfg.sparse_optimizer;
  auto table = std::make_unique<ShardedItemTable>(plan, mc.dim, so, comm,
                                                  item_table_device(cfg, device, comm.backend()));
  // Row r's initial values depend on (seed, r) only: any sharding, any world size.
  table->init_trunc_normal(mc.init_std, data::mix_seeds(cfg.seed, 0x17e3));
  const double mb = static_cast<double>(plan.local_rows()) *
                    (static_cast<double>(mc.dim) * 4.0 + table->optimizer().state_bytes_per_row()) /
                    (1 << 20);
  core::log0(
      "item table: sparse, {} ({} of {} rows on rank 0, {:.0f} MiB with {} state, in {} "
      "memory)",
      sharding_name(plan.kind), plan.rows_on(0), plan.num_rows, mb, so.kind,
      table->device().is_cpu() ? "host" : model::device_name(table->device()));
  return table;
}

}  // namespace

std::atomic<bool>& preemption_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

void install_preemption_handlers() {
  auto handler = [](int) { preemption_flag().store(true); };
  std::signal(SIGUSR1, handler);
  std::signal(SIGTERM, handler);
}

TrainResult train(const TrainConfig& config, const std::string& config_ini,
                  core::Communicator& comm) {
  auto t_start = Clock::now();
  TrainConfig cfg = config;  // item-table choice resolved below, once the catalog is known
  const bool root = comm.rank() == 0;
  const bool causal = cfg.objective == "next-item";
  DIVREC_CHECK_HINT(causal || cfg.objective == "masked-item", "use next-item or masked-item",
                    "--objective '", cfg.objective, "' is unknown");
  DIVREC_CHECK_HINT(cfg.loss == "bce" || cfg.loss == "sampled-softmax" || cfg.loss == "full-ce",
                    "use bce, sampled-softmax or full-ce", "--loss '", cfg.loss, "' is unknown");
  DIVREC_CHECK(cfg.batch_size > 0, "--batch-size must be positive");
  if (root) {
    core::make_dirs(cfg.run_dir + "/checkpoints");
    core::write_file_atomic(cfg.run_dir + "/config.ini", config_ini);
  }
  comm.barrier();

  // Data: every rank holds all sequences (the sampler needs them); items for the features.
  auto manifest = data::read_manifest(cfg.data_dir);
  auto items = data::read_item_table(cfg.data_dir, data::ContentRead::kStored);
  auto seqs = data::read_all_users(cfg.data_dir);
  core::log0("data: {} users, {} items, {} interactions, {} categories, {} attributes ({})",
             manifest.num_users, manifest.num_items, manifest.num_interactions,
             manifest.num_categories, manifest.num_attributes, cfg.data_dir);
  std::vector<int64_t> lengths(seqs.num_users());
  std::vector<int64_t> trainable;
  for (int64_t u = 0; u < seqs.num_users(); ++u) {
    lengths[u] = std::min<int64_t>(seqs.history_end(u, data::Split::kTrain), cfg.model.max_len + 1);
    if (seqs.history_end(u, data::Split::kTrain) >= (causal ? 2 : 1)) trainable.push_back(u);
  }
  DIVREC_CHECK(!trainable.empty(), "dataset '", cfg.data_dir, "' has no user with a train prefix");
  std::vector<int64_t> train_lengths(trainable.size());
  for (size_t i = 0; i < trainable.size(); ++i) train_lengths[i] = lengths[trainable[i]];

  // Model, identical on every rank (rank 0's initial parameters are broadcast).
  model::ModelConfig mc = model::with_catalog_sizes(cfg.model, items);
  resolve_item_table(cfg, mc.num_items);
  mc.external_item_table = cfg.sparse_item_table && mc.has_item_id();
  mc.validate();
  const torch::Device device = model::resolve_device(cfg.device);
  const model::Precision precision = model::parse_precision(cfg.precision);
  torch::manual_seed(cfg.seed);
  // The content vectors (the largest array of a foundation-model catalog) move into the model.
  model::SeqModel model(mc, model::ItemFeatures::from_table(items, model::TableContent::kTake));
  // Initialised on the CPU (the same values on every device), then moved: parameters and the
  // optimizer's state live on the device, in fp32 whatever the precision.
  model->to(device);
  core::log0("device: {}, precision {}", model::device_name(device),
             model::precision_name(precision));
  if (const auto warning = model::bf16_cpu_warning(precision, device); !warning.empty()) {
    core::log0("{}", warning);
  }
  auto table = make_item_table(cfg, mc, comm, device);
  core::log0("model: {} ({} parameters)", mc.summary(), [&] {
    int64_t n = 0;
    for (auto& p : model->parameters()) n += p.numel();
    return n;
  }());

  OptimConfig oc;
  oc.lr = cfg.lr;
  oc.weight_decay = cfg.weight_decay;
  oc.warmup_steps = cfg.warmup_steps;
  oc.decay = cfg.decay;
  oc.min_lr_ratio = cfg.min_lr_ratio;
  oc.clip_norm = cfg.clip_norm;
  auto optimizer = make_adamw(*model, oc);
  const int64_t steps_per_epoch =
      epoch_plan(train_lengths, cfg.batch_size, comm.rank(), comm.world(), cfg.seed, 0, false)
          .size();
  // The schedule spans all epochs; --max-steps only interrupts (a resumed run continues it).
  const int64_t total_steps = steps_per_epoch * cfg.epochs;
  LrSchedule schedule(oc, total_steps);

  TrainState state;
  state.config_ini = config_ini;
  state.extra["model_config"] = model::to_ini(mc);
  state.extra["data_dir"] = cfg.data_dir;
  CheckpointManager checkpoints(cfg.run_dir, static_cast<int>(cfg.keep_last));
  if (!cfg.resume.empty()) {
    auto path = find_resume_checkpoint(cfg.resume == "auto" ? cfg.run_dir : cfg.resume, "auto");
    if (!path.empty()) {
      LoadOptions lo;
      lo.rank = comm.rank();
      lo.world = comm.world();
      auto rep = load_checkpoint(path, *model, optimizer.get(), state, lo);
      if (!device.is_cpu()) move_optimizer_state(*optimizer, device);
      if (table) load_item_table(path, rep, *table, /*with_state=*/true);
      state.config_ini = config_ini;
      core::log0("resume: from {} (epoch {}, step {}, batch {} of the epoch)", path, state.epoch,
                 state.step, state.batch_in_epoch);
    } else {
      core::log0("resume: no valid checkpoint under {}, starting fresh",
                 cfg.resume == "auto" ? cfg.run_dir : cfg.resume);
    }
  } else if (!cfg.init_from.empty()) {
    TrainState ignored;
    auto path = resolve_checkpoint_arg(cfg.init_from);
    LoadOptions lo;
    lo.strict = false;
    lo.load_optimizer = false;
    lo.restore_rng = false;
    auto report = load_checkpoint(path, *model, nullptr, ignored, lo);
    if (table) load_item_table(path, report, *table, /*with_state=*/false);
    core::log0("init: {} tensors from {} ({} missing, {} unexpected, {} shape mismatches)",
               report.loaded.size(), path, report.missing.size(), report.unexpected.size(),
               report.shape_mismatch.size());
  }
  core::Watchdog watchdog(cfg.collective_timeout, [&](const std::string& what, double waited) {
    core::log_error("collective '{}' stuck for {:.0f} s (timeout {} s): aborting the job", what,
                    waited, cfg.collective_timeout);
    comm.abort(3);
  });
  {
    core::WatchdogScope w(&watchdog, "initial parameter broadcast");
    broadcast_module(*model, comm, 0);
  }

  GradSync sync(
      model->parameters(),
      [&] {
        std::vector<std::string> names;
        for (auto& kv : model->named_parameters()) names.push_back(kv.key());
        return names;
      }(),
      comm, cfg.bucket_mb * (int64_t(1) << 20), cfg.overlap);

  std::unique_ptr<MetricsLog> mlog;
  if (root) mlog = std::make_unique<MetricsLog>(cfg.run_dir + "/metrics.jsonl");

  // Validation users of this rank: dense index % world == rank (exact sums across ranks).
  std::vector<int64_t> valid_users;
  for (int64_t u = comm.rank(); u < seqs.num_users(); u += comm.world()) {
    if (cfg.eval_users > 0 && u >= cfg.eval_users) break;
    valid_users.push_back(u);
  }
  RankingConfig rc;
  rc.max_len = mc.max_len;
  rc.causal = causal;
  rc.seed = cfg.seed;

  int64_t last_saved_step = -1;
  auto save = [&](bool best) {
    if (state.step == last_saved_step && !best) return;  // already on disk (e.g. epoch end)
    last_saved_step = state.step;
    core::WatchdogScope w(&watchdog, fmt::format("checkpoint at step {}", state.step));
    auto path = checkpoints.save(comm, *model, optimizer.get(), state, best, table.get());
    core::log0("checkpoint: {}{}", path, best ? " (+ best.pt)" : "");
  };

  StepLoss step_loss(cfg, mc, seqs, items, table.get(), device);
  // Ranking the whole catalog needs every id row on the model's device: the table (row-wise:
  // gathered from every rank) is attached for the duration of a validation or test.
  auto ranking = [&](const std::vector<int64_t>& users, data::Split split) {
    if (table) {
      auto full = table->plan().row_wise() ? table->gather_full() : table->weight();
      model->item_encoder()->attach_id_table(full.to(device));
    }
    model::AutocastScope autocast(precision, device);
    auto m = evaluate_ranking(model, seqs, users, split, rc, comm);
    if (table) model->item_encoder()->attach_id_table(torch::Tensor());
    return m;
  };

  auto validate = [&](int64_t epoch) {
    auto t = Clock::now();
    core::WatchdogScope w(&watchdog, fmt::format("validation after epoch {}", epoch));
    auto m = ranking(valid_users, data::Split::kValid);
    core::log0(
        "valid epoch {}: ndcg@10 {:.4f} hr@10 {:.4f} ndcg@20 {:.4f} hr@20 {:.4f} mrr {:.4f} "
        "({} users, {:.1f} s)",
        epoch, m["ndcg@10"], m["hr@10"], m["ndcg@20"], m["hr@20"], m["mrr"],
        static_cast<int64_t>(m["users"]), since(t));
    if (mlog) {
      nlohmann::json j = {{"kind", "valid"}, {"epoch", epoch}, {"step", state.step}};
      for (auto& [k, v] : m) j[k] = v;
      mlog->write(j);
    }
    return m;
  };

  TrainResult result;
  model->train();
  auto params = model->parameters();
  StepWindow window(sync.stats());
  bool stop = false;
  for (int64_t epoch = state.epoch; epoch < cfg.epochs && !stop; ++epoch) {
    auto plan = epoch_plan(train_lengths, cfg.batch_size, comm.rank(), comm.world(), cfg.seed,
                           epoch, cfg.length_buckets);
    core::Progress progress(fmt::format("epoch {}/{}", epoch + 1, cfg.epochs),
                            static_cast<int64_t>(plan.size()), 60.0);
    progress.advance(state.batch_in_epoch);
    for (int64_t b = state.batch_in_epoch; b < static_cast<int64_t>(plan.size()); ++b) {
      auto t0 = Clock::now();
      step_loss.seed_step(state.step, comm.rank());  // resume replays the same randomness
      std::vector<int64_t> users(plan[b].size());
      for (size_t i = 0; i < users.size(); ++i) users[i] = trainable[plan[b][i]];

      int64_t n_local = 0;
      torch::Tensor loss_local;
      {
        // Row-wise, the forward pass holds the item-row all-to-all.
        core::WatchdogScope w(table && table->plan().row_wise() ? &watchdog : nullptr,
                              fmt::format("forward with item-row exchange, step {}", state.step));
        model::AutocastScope autocast(precision, device);  // forward + loss; backward outside
        loss_local = step_loss(model, users, &n_local);
      }
      // One small all-reduce: global target count (exact mean) + preemption votes.
      std::vector<int64_t> agree = {n_local, preemption_flag().load() ? 1 : 0};
      {
        core::WatchdogScope w(&watchdog,
                              fmt::format("target count all-reduce, step {}", state.step));
        core::allreduce_sum(comm, agree);
      }
      if (agree[1] > 0) {
        core::log0("preemption signal: checkpointing at epoch {} batch {} (step {})", epoch, b,
                   state.step);
        state.epoch = epoch;
        state.batch_in_epoch = b;
        save(false);
        result.outcome = TrainOutcome::kPreempted;
        stop = true;
        break;
      }
      double scale = agree[0] > 0 ? static_cast<double>(n_local) * comm.world() / agree[0] : 0.0;
      auto loss = loss_local * scale;
      optimizer->zero_grad();
      sync.begin_step();
      loss.backward();
      double sparse_sq = 0;
      {
        core::WatchdogScope w(&watchdog, fmt::format("gradient all-reduce, step {}", state.step));
        sync.finish_step();
        if (table) sparse_sq = table->reduce_gradients(1.0 / comm.world());
      }
      double clip_scale = 1.0;
      double gnorm = clip_grad_norm(params, cfg.clip_norm, sparse_sq, &clip_scale);
      const double lr = schedule.lr_at(state.step);
      set_lr(*optimizer, lr);
      optimizer->step();
      if (table) table->apply(lr, clip_scale, state.step + 1);
      ++state.step;
      progress.advance();

      window.add(since(t0), static_cast<int64_t>(users.size()), loss_local.item<double>(), gnorm);
      if (table) {
        window.add_sparse(table->last_rows(), table->exchange().stats().bytes_sent);
        table->exchange().reset_stats();
      }
      if (state.step % cfg.log_every == 0 || b + 1 == static_cast<int64_t>(plan.size())) {
        window.flush(comm, &watchdog, sync.stats(), epoch + 1, state.step, total_steps,
                     schedule.lr_at(state.step - 1), mlog.get());
      }
      if (cfg.checkpoint_every > 0 && state.step % cfg.checkpoint_every == 0) {
        state.epoch = epoch;
        state.batch_in_epoch = b + 1;
        save(false);
      }
      if (cfg.max_steps > 0 && state.step >= cfg.max_steps) {
        state.epoch = epoch;
        state.batch_in_epoch = b + 1;
        save(false);
        result.outcome = TrainOutcome::kMaxSteps;
        stop = true;
        break;
      }
    }
    if (stop) break;
    progress.finish();
    state.epoch = epoch + 1;
    state.batch_in_epoch = 0;
    bool improved = false;
    if (cfg.eval_every > 0 && (epoch + 1) % cfg.eval_every == 0) {
      auto m = validate(epoch + 1);
      improved = m["ndcg@10"] > state.best_metric;
      if (improved) {
        state.best_metric = m["ndcg@10"];
        state.best_epoch = epoch + 1;
        state.bad_epochs = 0;
        state.best_metrics = m;
        result.best_valid = m;
      } else if (++state.bad_epochs >= cfg.patience) {
        core::log0("early stopping: no NDCG@10 improvement for {} epochs (best {:.4f} at epoch {})",
                   state.bad_epochs, state.best_metric, state.best_epoch);
        result.outcome = TrainOutcome::kEarlyStopped;
        stop = true;
      }
    }
    save(improved);  // every epoch end; best.pt too when validation improved
  }
  result.steps = state.step;
  result.epochs = state.epoch;
  {
    // Every rank must hold identical parameters; a position-weighted sum makes drift visible.
    double digest = 0;
    for (const auto& p : model->parameters()) {
      auto f = p.detach().to(torch::kCPU, torch::kFloat64).flatten();
      digest +=
          (f * torch::arange(1, f.numel() + 1, torch::kFloat64).remainder(97)).sum().item<double>();
    }
    if (table) {
      // Row-wise shards differ by design: their digest is summed over ranks (by global row).
      const auto& plan = table->plan();
      auto w = table->weight().to(torch::kCPU, torch::kFloat64);
      auto rows = torch::arange(plan.local_rows(), torch::kFloat64) * (plan.row_wise() ? plan.world : 1) +
                  (plan.row_wise() ? plan.rank : 0);
      double t = (w.sum(1) * (rows.remainder(89) + 1)).sum().item<double>();
      if (plan.row_wise()) t = core::allreduce_scalar(comm, t, core::ReduceOp::kSum);
      digest += t;
    }
    result.param_digest = digest;
    core::WatchdogScope w(&watchdog, "final parameter check");
    double lo = core::allreduce_scalar(comm, digest, core::ReduceOp::kMin);
    double hi = core::allreduce_scalar(comm, digest, core::ReduceOp::kMax);
    DIVREC_CHECK(lo == hi, "ranks hold different parameters after training (digest ", lo, " vs ",
                 hi, "): gradient synchronisation is broken");
  }

  if (cfg.final_test && result.outcome != TrainOutcome::kPreempted &&
      result.outcome != TrainOutcome::kMaxSteps) {
    std::string best = checkpoints.best_path();
    if (core::path_exists(best)) {
      TrainState ignored;
      LoadOptions lo;
      lo.restore_rng = false;
      auto rep = load_checkpoint(best, *model, nullptr, ignored, lo);
      if (table) load_item_table(best, rep, *table, /*with_state=*/false);
    }
    std::vector<int64_t> test_users;
    for (int64_t u = comm.rank(); u < seqs.num_users(); u += comm.world()) test_users.push_back(u);
    core::WatchdogScope w(&watchdog, "final test evaluation");
    result.test = ranking(test_users, data::Split::kTest);
    core::log0(
        "test (best.pt): ndcg@10 {:.4f} hr@10 {:.4f} ndcg@20 {:.4f} hr@20 {:.4f} | "
        "99 sampled negatives: ndcg@10 {:.4f} hr@10 {:.4f}",
        result.test["ndcg@10"], result.test["hr@10"], result.test["ndcg@20"], result.test["hr@20"],
        result.test["sampled_ndcg@10"], result.test["sampled_hr@10"]);
    if (root) {
      nlohmann::json j = result.test;
      core::write_file_atomic(cfg.run_dir + "/test_metrics.json", j.dump(2) + "\n");
      if (mlog) {
        j["kind"] = "test";
        mlog->write(j);
      }
    }
  }
  result.seconds = since(t_start);
  {
    // Peak resident memory of every rank (the catalog-scale benchmark reads it).
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    auto rss = core::allgatherv(comm, std::vector<double>{static_cast<double>(ru.ru_maxrss) / 1024.0});
    core::log0("train: peak RSS per rank (MiB): {:.0f}", fmt::join(rss, ", "));
    if (mlog) mlog->write({{"kind", "resources"}, {"peak_rss_mb", rss}});
  }
  core::log0("train: {} steps, {} epochs in {}", result.steps, result.epochs,
             core::format_duration(result.seconds));
  return result;
}

}  // namespace divrec::trainer
