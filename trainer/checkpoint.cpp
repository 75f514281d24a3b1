// Checkpoint contents: model tensors, optimizer state, train state and RNG states into one
// torch archive and back (strict or partial), and the run-directory save policy (keep last K,
// best.pt, collective save written by rank 0).
#include "trainer/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainer/item_table_checkpoint.h"
#include "trainer/model/checkpoint_reader.h"
#include "trainer/model/item_table_file.h"

namespace fs = std::filesystem;

namespace divrec::trainer {

namespace {

constexpr int64_t kFormatVersion = model::kCheckpointFormatVersion;

std::string tensor_bytes(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kCPU);
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}
torch::Tensor bytes_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  if (!s.empty()) std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

// Model tensors by name: parameters, then buffers (names are unique across the two).
std::vector<std::pair<std::string, torch::Tensor>> model_tensors(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& it : m.named_parameters(true)) out.emplace_back(it.key(), it.value());
  for (const auto& it : m.named_buffers(true)) out.emplace_back(it.key(), it.value());
  return out;
}

// LibTorch 1.13's Optimizer::load restores per-parameter state but not the groups'
// hyper-parameters (PyTorch's load_state_dict does), so they travel in the metadata.
nlohmann::json options_json(const torch::optim::Optimizer& opt) {
  auto out = nlohmann::json::array();
  for (const auto& g : opt.param_groups()) {
    nlohmann::json j;
    j["lr"] = g.options().get_lr();
    if (const auto* o = dynamic_cast<const torch::optim::AdamWOptions*>(&g.options())) {
      j["beta1"] = std::get<0>(o->betas());
      j["beta2"] = std::get<1>(o->betas());
      j["eps"] = o->eps();
      j["weight_decay"] = o->weight_decay();
      j["amsgrad"] = o->amsgrad();
    }
    out.push_back(j);
  }
  return out;
}

void restore_options(torch::optim::Optimizer& opt, const nlohmann::json& saved) {
  auto& groups = opt.param_groups();
  for (size_t i = 0; i < groups.size() && i < saved.size(); ++i) {
    const auto& j = saved[i];
    groups[i].options().set_lr(j.at("lr").get<double>());
    auto* o = dynamic_cast<torch::optim::AdamWOptions*>(&groups[i].options());
    if (o != nullptr && j.contains("beta1")) {
      o->betas({j.at("beta1").get<double>(), j.at("beta2").get<double>()});
      o->eps(j.at("eps").get<double>());
      o->weight_decay(j.at("weight_decay").get<double>());
      o->amsgrad(j.at("amsgrad").get<bool>());
    }
  }
}

}  // namespace

std::string torch_rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return tensor_bytes(gen.get_state());
}

void set_torch_rng_state(const std::string& bytes) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(bytes_tensor(bytes));
}

std::string serialize_checkpoint(const torch::nn::Module& model,
                                 const torch::optim::Optimizer* optimizer, const TrainState& state,
                                 const std::vector<std::string>& rng_states,
                                 const std::string& item_table_layout) {
  torch::serialize::OutputArchive ar;
  nlohmann::json meta;
  meta["format"] = kFormatVersion;
  meta["step"] = state.step;
  meta["epoch"] = state.epoch;
  meta["batch_in_epoch"] = state.batch_in_epoch;
  meta["best_epoch"] = state.best_epoch;
  meta["bad_epochs"] = state.bad_epochs;
  meta["counters"] = state.counters;
  meta["extra"] = state.extra;
  // Doubles travel in a float64 tensor: JSON has no infinity (best_metric starts at -inf).
  std::vector<double> doubles = {state.best_metric};
  std::vector<std::string> metric_names;
  for (const auto& [k, v] : state.best_metrics) {
    metric_names.push_back(k);
    doubles.push_back(v);
  }
  meta["best_metric_names"] = metric_names;
  ar.write("state/doubles", torch::tensor(doubles, torch::kFloat64));
  ar.write("state/config_ini", bytes_tensor(state.config_ini));

  auto names = nlohmann::json::array();
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : model_tensors(model)) {
    names.push_back(name);
    ar.write("model/" + name, t.detach(), /*is_buffer=*/true);
  }
  meta["model"] = names;
  if (!item_table_layout.empty()) meta["item_table"] = item_table_layout;

  meta["has_optimizer"] = optimizer != nullptr;
  if (optimizer != nullptr) {
    auto groups = nlohmann::json::array();  // shapes per group, to check before loading
    for (const auto& g : optimizer->param_groups()) {
      auto shapes = nlohmann::json::array();
      for (const auto& p : g.params()) shapes.push_back(p.sizes().vec());
      groups.push_back(shapes);
    }
    meta["optimizer_groups"] = groups;
    meta["optimizer_options"] = options_json(*optimizer);
    torch::serialize::OutputArchive opt(ar.compilation_unit());
    optimizer->save(opt);
    ar.write("optimizer", opt);
  }
  meta["rng_world"] = rng_states.size();
  for (size_t r = 0; r < rng_states.size(); ++r) {
    ar.write("rng/torch_cpu/" + std::to_string(r), bytes_tensor(rng_states[r]));
  }
  std::string json;
  try {
    json = meta.dump();
  } catch (const nlohmann::json::exception& e) {
    DIVREC_FAIL("checkpoint metadata is not valid UTF-8 text (TrainState.extra?): ", e.what());
  }
  ar.write("meta", c10::IValue(json));

  std::string payload;
  ar.save_to([&](const void* data, size_t n) {
    payload.append(static_cast<const char*>(data), n);
    return n;
  });
  return frame_checkpoint(std::move(payload));
}

namespace {

// Saved parameter shapes per group equal the optimizer's (Optimizer::load checks counts only).
bool optimizer_matches(const torch::optim::Optimizer& opt, const nlohmann::json& meta) {
  const auto& groups = opt.param_groups();
  const auto& want = meta.at("optimizer_groups");
  if (want.size() != groups.size()) return false;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (want[g].size() != groups[g].params().size()) return false;
    for (size_t i = 0; i < groups[g].params().size(); ++i) {
      if (want[g][i].get<std::vector<int64_t>>() != groups[g].params()[i].sizes().vec()) {
        return false;
      }
    }
  }
  return true;
}

TrainState read_state(torch::serialize::InputArchive& ar, const nlohmann::json& meta) {
  TrainState s;
  s.step = meta.at("step").get<int64_t>();
  s.epoch = meta.at("epoch").get<int64_t>();
  s.batch_in_epoch = meta.at("batch_in_epoch").get<int64_t>();
  s.best_epoch = meta.at("best_epoch").get<int64_t>();
  s.bad_epochs = meta.at("bad_epochs").get<int64_t>();
  s.counters = meta.at("counters").get<std::map<std::string, uint64_t>>();
  s.extra = meta.at("extra").get<std::map<std::string, std::string>>();
  torch::Tensor doubles, ini;
  ar.read("state/doubles", doubles, true);
  ar.read("state/config_ini", ini, true);
  auto d = doubles.contiguous();
  auto names = meta.at("best_metric_names").get<std::vector<std::string>>();
  DIVREC_CHECK(d.numel() == static_cast<int64_t>(names.size()) + 1,
               "best metric names and values differ in number");
  s.best_metric = d[0].item<double>();
  for (size_t i = 0; i < names.size(); ++i) s.best_metrics[names[i]] = d[i + 1].item<double>();
  s.config_ini = tensor_bytes(ini);
  return s;
}

}  // namespace

LoadReport load_checkpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer* optimizer, TrainState& state,
                           const LoadOptions& options) {
  model::CheckpointArchive ckpt(path);
  auto& ar = ckpt.archive();
  const auto& meta = ckpt.meta();
  TrainState loaded_state;
  try {
    loaded_state = read_state(ar, meta);
  } catch (const std::exception& e) {
    DIVREC_FAIL("checkpoint '", path, "' passed its checksum but cannot be decoded: ", e.what());
  }

  // Everything is checked before anything is changed, so a strict failure leaves the model,
  // the optimizer and the state untouched.
  auto match = ckpt.match(model);
  LoadReport rep;
  rep.loaded = match.loaded;
  rep.missing = match.missing;
  rep.unexpected = match.unexpected;
  rep.shape_mismatch = match.shape_mismatch;
  rep.item_table_layout = match.item_table_layout;
  rep.dense_item_table = match.dense_item_table;
  const bool clean = match.clean();
  const std::string problems = match.problems();
  DIVREC_CHECK_HINT(clean || !options.strict,
                    "the model configuration must match the checkpoint's (or load non-strictly)",
                    "checkpoint '", path, "' does not match the model: ", problems);

  bool want_opt = optimizer != nullptr && options.load_optimizer;
  std::string why_not;  // why the optimizer state is not loaded
  if (want_opt && !meta.value("has_optimizer", false)) why_not = "the checkpoint holds none";
  if (want_opt && why_not.empty() && !clean) why_not = "the model did not match";
  if (want_opt && why_not.empty() && !optimizer_matches(*optimizer, meta)) {
    why_not = "its parameter groups differ from this optimizer's";
  }
  DIVREC_CHECK_HINT(!want_opt || why_not.empty() || !options.strict,
                    "build the optimizer with the same parameter groups, or load without it",
                    "optimizer state of checkpoint '", path, "' cannot be loaded: ", why_not);

  if (!clean) {
    core::log0("checkpoint '{}': loaded {} tensors, skipped: {}", path, rep.loaded.size(),
               problems);
  }
  match.copy_into_model();
  if (want_opt && why_not.empty()) {
    torch::serialize::InputArchive opt;
    ar.read("optimizer", opt);
    optimizer->load(opt);
    restore_options(*optimizer, meta.at("optimizer_options"));
    rep.optimizer_loaded = true;
  } else if (want_opt) {
    core::log0("checkpoint '{}': optimizer state not loaded: {}", path, why_not);
  }
  state = std::move(loaded_state);

  if (options.restore_rng) {
    auto world = meta.value("rng_world", int64_t{0});
    if (world == options.world && options.rank < world) {
      torch::Tensor rng;
      ar.read("rng/torch_cpu/" + std::to_string(options.rank), rng, true);
      set_torch_rng_state(tensor_bytes(rng));
      rep.rng_restored = true;
    } else if (world > 0) {
      core::log0("checkpoint '{}' was saved by {} ranks, this job has {}: RNG states not restored",
                 path, world, options.world);
    }
  }
  return rep;
}

CheckpointManager::CheckpointManager(std::string run_dir, int keep_last)
    : dir_((fs::path(run_dir) / "checkpoints").string()), keep_last_(keep_last) {}

std::string CheckpointManager::path_for_step(int64_t step) const {
  return (fs::path(dir_) / fmt::format("ckpt-{:09d}.pt", step)).string();
}

std::string CheckpointManager::best_path() const { return (fs::path(dir_) / "best.pt").string(); }

std::string CheckpointManager::save(core::Communicator& comm, const torch::nn::Module& model,
                                    const torch::optim::Optimizer* optimizer,
                                    const TrainState& state, bool is_best,
                                    ShardedItemTable* table) const {
  // Every rank's generator state, gathered to all (rank 0 is the one that needs them).
  std::string mine = torch_rng_state();
  int64_t n = static_cast<int64_t>(mine.size());
  std::vector<int64_t> sizes(comm.world());
  comm.allgather(&n, sizes.data(), 1, core::DType::kInt64);
  std::vector<size_t> counts(sizes.begin(), sizes.end());
  size_t total = 0;
  for (auto c : counts) total += c;
  std::string all(total, '\0');
  comm.allgatherv(mine.data(), mine.size(), all.data(), counts, core::DType::kUInt8);
  std::vector<std::string> rng;
  for (size_t r = 0, off = 0; r < counts.size(); off += counts[r], ++r) {
    rng.push_back(all.substr(off, counts[r]));
  }

  std::string path = path_for_step(state.step);
  std::string error;
  std::string layout_json;
  // 1. The item table's shard files (every holder), before the checkpoint that names them.
  if (table != nullptr) {
    layout_json = save_item_table_shards(comm, *table, path, is_best ? best_path() : "",
                                         state.step, &error);
  }
  if (comm.rank() == 0 && error.empty()) {
    try {
      core::make_dirs(dir_);
      std::string bytes = serialize_checkpoint(model, optimizer, state, rng, layout_json);
      write_checkpoint_file(path, bytes);
      if (is_best) {
        write_checkpoint_file(best_path(), bytes);
        remove_item_table_files(best_path(), layout_json);  // the previous best's shards
      }
      if (keep_last_ > 0) {  // only now that the new one is committed
        auto list = list_checkpoints(dir_);
        for (size_t i = 0; i + keep_last_ < list.size(); ++i) {
          if (list[i] == path) continue;
          fs::remove(list[i]);
          remove_item_table_files(list[i], "");
        }
      }
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  }
  core::broadcast_string(comm, error, 0);  // every rank fails together
  DIVREC_CHECK(error.empty(), "saving checkpoint step ", state.step, " failed: ", error);
  return path;
}

}  // namespace divrec::trainer
