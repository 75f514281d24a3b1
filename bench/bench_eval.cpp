// Evaluation throughput: users/s per rank of the full `divrec eval` pass (score the catalog, top-N,
// re-rank, every metric at every K, exact aggregation) with each re-ranker, plus one sweep pass of
// 11 MMR settings, on a synthetic catalog with a random model. One JSON line per measurement.
// Runs alone or under mpirun (users are split by dense id as in divrec eval).
//   bench_eval [--users 2000] [--items 5000] [--dim 64] [--candidates 200] [--k 20]
//              [--threads 0] [--batch 256] [--precision fp32|bf16] [--methods none,dpp,...]
// --methods picks measurements (none mmr dpp xquad calibrated mmr+min_categories mmr-sweep-11).
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/comm/factory.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "core/threads.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "eval/evaluator.h"
#include "trainer/model/seq_model.h"

using namespace divrec;

int main(int argc, char** argv) {
  int64_t users = 2000, items = 5000, dim = 64, batch = 256;
  int candidates = 200, k = 20, threads = 0;
  std::string precision = "fp32", methods;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int64_t v = std::atoll(argv[i + 1]);
    if (a == "--precision")
      precision = argv[i + 1];
    else if (a == "--methods")
      methods = "," + std::string(argv[i + 1]) + ",";
    else if (a == "--users")
      users = v;
    else if (a == "--items")
      items = v;
    else if (a == "--dim")
      dim = v;
    else if (a == "--candidates")
      candidates = static_cast<int>(v);
    else if (a == "--k")
      k = static_cast<int>(v);
    else if (a == "--threads")
      threads = static_cast<int>(v);
    else if (a == "--batch")
      batch = v;
    else {
      std::fprintf(stderr, "bench_eval: unknown option %s\n", argv[i]);
      return 1;
    }
  }
  auto comm = core::make_communicator("auto", &argc, &argv);
  core::set_log_rank(comm->rank(), comm->world());
  core::set_log_quiet(true);
  threads = core::resolve_threads(threads);
  core::configure_threads(threads);

  // Rank 0 writes the dataset; every rank reads its users.
  std::string dir = (std::filesystem::temp_directory_path() / "divrec_bench_eval").string();
  if (comm->rank() == 0) {
    dir += "_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    data::SyntheticOptions so;
    // Every item observed (so the catalog really has `items` items): enough users for that,
    // of whom the first `users` are evaluated (max_users).
    so.users = std::max<int64_t>(users, items * 11 / 300 + 1);
    so.cover_items = true;
    so.items = items;
    so.categories = 50;
    so.attributes = 200;
    so.mean_length = 30;
    so.content_dim = 0;
    data::WriteOptions wo;
    wo.output_dir = dir;
    wo.num_shards = 4;
    data::write_dataset(data::convert_synthetic(so), wo);
  }
  core::broadcast_string(*comm, dir, 0);
  auto table = data::read_item_table(dir);
  auto seqs = data::read_users_for_rank(dir, comm->rank(), comm->world());

  model::ModelConfig mc;
  mc.num_items = table.num_items;
  mc.num_categories = table.num_categories;
  mc.num_attributes = table.num_attributes;
  mc.dim = dim;
  mc.layers = 2;
  mc.heads = 2;
  mc.max_len = 50;
  torch::manual_seed(1);
  model::SeqModel model(mc, model::ItemFeatures::from_table(table));
  model->eval();
  torch::Tensor vec;
  {
    torch::NoGradGuard ng;
    vec = model->item_vectors().contiguous();
  }
  auto cosine = eval::ItemSimilarity::cosine(vec.data_ptr<float>(), vec.size(0), vec.size(1));

  eval::EvalInputs in;
  in.model = model;
  in.item_table = vec;  // evaluate() would compute it again
  in.items = &table;
  in.rerank_similarity = &cosine;
  in.ild_similarity = &cosine;
  in.users = &seqs;
  eval::EvalOptions opt;
  opt.ks = {k};
  if (k > 10) opt.ks = {10, k};
  opt.candidates = candidates;
  opt.batch_size = batch;
  opt.threads = threads;
  opt.progress = false;
  opt.max_users = users;
  opt.score_precision = model::parse_score_precision(precision, "--precision");

  auto run = [&](const std::string& name, std::vector<eval::RerankSetting> settings,
                 bool constrained) {
    if (!methods.empty() && methods.find("," + name + ",") == std::string::npos) return;
    opt.settings = std::move(settings);
    opt.constraints = eval::Constraints{};
    if (constrained) opt.constraints.min_categories = 5;
    const std::clock_t cpu0 = std::clock();  // process CPU time: robust on a shared machine
    auto pass = eval::evaluate(in, opt, *comm);
    const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    const auto& r = pass.result;
    const double per_rank = static_cast<double>(r.users) / comm->world() / r.seconds;
    if (comm->rank() == 0) {
      nlohmann::json j;
      j["bench"] = "eval";
      j["stage"] = "eval";
      j["precision"] = precision;
      j["method"] = name;
      j["settings"] = opt.settings.size();
      j["constraints"] = opt.constraints.describe();
      j["users"] = r.users;
      j["ranks"] = comm->world();
      j["threads"] = threads;
      j["items"] = table.num_items;
      j["dim"] = dim;
      j["candidates"] = candidates;
      j["k"] = k;
      j["seconds"] = r.seconds;
      j["users_per_s_per_rank"] = per_rank;
      j["cpu_s"] = cpu_s;  // this rank's whole process (all its threads), the pass only
      j["lists_per_s_per_rank"] = per_rank * static_cast<double>(opt.settings.size());
      j["ndcg@10"] = r.settings[0].metrics.at("ndcg@10");
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    }
  };
  for (auto m : {eval::RerankMethod::kNone, eval::RerankMethod::kMmr, eval::RerankMethod::kDpp,
                 eval::RerankMethod::kXquad, eval::RerankMethod::kCalibrated}) {
    eval::RerankSetting s;
    s.rerank.method = m;
    run(eval::rerank_method_name(m), {s}, false);
  }
  {
    eval::RerankSetting s;
    s.rerank.method = eval::RerankMethod::kMmr;
    run("mmr+min_categories", {s}, true);
  }
  std::vector<eval::RerankSetting> sweep;
  for (int i = 0; i <= 10; ++i) {
    eval::RerankSetting s;
    s.rerank.method = eval::RerankMethod::kMmr;
    s.rerank.lambda = i / 10.0;
    sweep.push_back(s);
  }
  run("mmr-sweep-11", sweep, false);
  comm->barrier();
  if (comm->rank() == 0) std::filesystem::remove_all(dir);
  return 0;
}
