// The `divrec eval` job (see run_eval.h).
#include "eval/run_eval.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "data_shards/reader.h"
#include "eval/evaluator.h"
#include "eval/fair_eval.h"
#include "eval/model_loader.h"
#include "eval/retrieval/ann_index.h"
#include "eval/sweep.h"
#include "eval/user_blocks.h"
#include "trainer/model/device.h"

namespace divrec::eval {

std::string report_stem(const std::string& report_path) {
  const std::string ext = ".json";
  if (report_path.size() > ext.size() &&
      report_path.compare(report_path.size() - ext.size(), ext.size(), ext) == 0) {
    return report_path.substr(0, report_path.size() - ext.size());
  }
  return report_path;
}

namespace {

// --retrieval ann (or auto from kAutoAnnMinItems items with --ann-index): the index of
// --ann-index, checked against this checkpoint's item vectors (I, D and their CRC-32), or one
// built here on one thread (deterministic, so every rank builds the same graph).
std::optional<AnnIndex> open_ann_index(const EvalConfig& config, const torch::Tensor& vectors) {
  const int64_t I = vectors.size(0), D = vectors.size(1);
  const auto mode = config.retrieval.mode;
  if (!wants_ann(mode, I) || (mode == RetrievalMode::kAuto && config.ann_index.empty())) {
    return std::nullopt;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<AnnIndex> ann;
  if (!config.ann_index.empty()) {
    ann.emplace(AnnIndex::load(config.ann_index, vectors.data_ptr<float>(), I, D));
  } else {
    AnnBuildOptions b = config.ann_build;
    b.build_threads = 1;
    ann.emplace(AnnIndex::build(vectors.data_ptr<float>(), I, D, b));
  }
  core::log0("retrieval ann: {} index over {} items {} in {:.1f} s", ann_kind_name(ann->kind()), I,
             config.ann_index.empty() ? "built" : "loaded from '" + config.ann_index + "'",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return ann;
}

}  // namespace

EvalResult run_eval(const EvalConfig& config, core::Communicator& comm) {
  DIVREC_CHECK_HINT(!config.report.empty(), "pass --report OUT.json", "--report is required");
  // Bad options fail before any data is read.
  const bool fair = config.fairness.enabled();
  if (fair) validate(config.fairness);
  // A fair-exposure sweep runs each method at each tolerance (evaluate_fair).
  const auto settings = fair ? fair_settings(config.sweep_methods, config.rerank)
                             : make_settings(config.sweep, config.sweep_methods, config.rerank);
  validate(config.constraints);
  DIVREC_CHECK_HINT(!config.ks.empty(), "pass e.g. --k 5,10,20", "--k is empty");
  const int max_k = *std::max_element(config.ks.begin(), config.ks.end());
  DIVREC_CHECK(*std::min_element(config.ks.begin(), config.ks.end()) > 0,
               "--k: cut-offs must be > 0");
  DIVREC_CHECK_HINT(config.candidates >= max_k, "raise --candidates or lower --k", "--candidates ",
                    config.candidates, " is below the largest K ", max_k);
  const bool root = comm.rank() == 0;
  if (root) {  // output directories first: a bad path fails before the evaluation runs
    core::make_dirs(core::parent_dir(config.report));
    if (!config.dump_lists.empty()) core::make_dirs(core::parent_dir(config.dump_lists));
  }

  auto manifest = data::read_manifest(config.data_dir);
  // Content stays 16-bit when stored so (the model's copy is all eval needs of it).
  auto items = data::read_item_table(config.data_dir, data::ContentRead::kStored);
  DIVREC_CHECK(config.batch_size > 0, "--batch-size must be positive, got ", config.batch_size);
  auto users = read_user_blocks(config.data_dir, comm.rank(), comm.world(), config.batch_size);
  core::log0("data: {} users, {} items, {} categories, {} attributes ({})", manifest.num_users,
             items.num_items, items.num_categories, items.num_attributes, config.data_dir);
  auto loaded = load_model_for_eval(config.checkpoint, items, model::TableContent::kTake);
  core::log0("model: {} from {} ({})", loaded.model->config().summary(), loaded.path,
             loaded.causal ? "next-item" : "masked-item");

  // Cosine similarity of the model's output item vectors, computed once: the ILD metric always
  // uses it (so ILD compares across --similarity), the re-rankers when --similarity cosine.
  torch::Tensor vectors;
  {
    torch::NoGradGuard no_grad;
    vectors = loaded.model->item_vectors().to(torch::kFloat32).contiguous();
  }
  // No copy of the item vectors: the similarity keeps the tensor alive.
  auto cosine = ItemSimilarity::shared_cosine(
      std::shared_ptr<const float>(vectors.data_ptr<float>(), [keep = vectors](const float*) {}),
      vectors.size(0), vectors.size(1));
  ItemSimilarity jaccard;
  if (config.similarity == SimilarityKind::kJaccard) jaccard = ItemSimilarity::jaccard(items);
  DIVREC_CHECK(config.similarity != SimilarityKind::kPrecomputed,
               "--similarity: use cosine or jaccard");

  const std::optional<AnnIndex> ann = open_ann_index(config, vectors);

  EvalInputs in;
  in.ann = ann ? &*ann : nullptr;
  in.model = loaded.model;
  in.causal = loaded.causal;
  in.item_table = vectors;
  in.items = &items;
  in.rerank_similarity = config.similarity == SimilarityKind::kJaccard ? &jaccard : &cosine;
  in.ild_similarity = &cosine;
  in.users = &users;
  in.user_raw_ids = &manifest.user_raw_ids;
  // Candidates on a GPU when asked: the model moves there (the item table above stays).
  const torch::Device device = model::resolve_device(config.device);
  const model::Precision precision = model::parse_precision(config.precision);
  DIVREC_CHECK_HINT(device.is_cuda() || precision == model::Precision::kFp32,
                    "use --score-precision bf16 for a bf16 item matrix on the CPU",
                    "--precision bf16 needs --device cuda: the CPU path encodes in fp32, as "
                    "serving does");
  std::unique_ptr<DeviceScorer> device_scorer;
  if (device.is_cuda()) {
    device_scorer =
        std::make_unique<DeviceScorer>(loaded.model, vectors, loaded.causal, device, precision);
    in.device_scorer = device_scorer.get();
    core::log0("candidates: on {} in {} (cuBLAS scores: lists may differ from serving's at near "
               "ties)",
               model::device_name(device), model::precision_name(precision));
  }
  EvalOptions opt;
  opt.split = config.split;
  opt.ks = config.ks;
  opt.candidates = config.candidates;
  opt.tail_max = config.tail_max;
  opt.settings = settings;
  opt.constraints = config.constraints;
  opt.batch_size = config.batch_size;
  opt.threads = std::max(1, config.threads);
  opt.score_precision = config.score_precision;
  opt.retrieval = config.retrieval;
  opt.max_users = config.max_users;
  opt.collect_lists = !config.dump_lists.empty();
  auto pass =
      fair ? evaluate_fair(in, opt, config.fairness, config.sweep, comm) : evaluate(in, opt, comm);
  pass.result.checkpoint = loaded.path;
  if (ann) {
    pass.result.ann_index = config.ann_index.empty() ? "built in-process" : config.ann_index;
    pass.result.ann_kind = ann_kind_name(ann->kind());
    std::tie(pass.result.ann_search_parameter, pass.result.ann_search_value) =
        ann->search_parameter(config.retrieval.search);
  }
  const EvalResult& result = pass.result;

  write_report(config.report, config, result, comm.rank());
  if (root) {
    const auto& first = result.settings.front();
    core::log0("eval: {} users in {} ({} setting(s)); {} infeasible under constraints [{}]\n{}",
               result.users, core::format_duration(result.seconds), result.settings.size(),
               first.infeasible_users, config.constraints.describe(),
               format_metric_table(first.metrics, config.ks));
    core::log0("report: {}", config.report);
  }
  if (!config.sweep.empty()) {
    const int k = std::count(config.ks.begin(), config.ks.end(), 10)
                      ? 10
                      : *std::max_element(config.ks.begin(), config.ks.end());
    const std::string ks = std::to_string(k);
    for (const auto& s : result.settings) {
      auto get = [&](const std::string& name) {
        auto it = s.metrics.find(name + "@" + ks);
        return it == s.metrics.end() ? 0.0 : it->second;
      };
      core::log0("sweep {:<28} ndcg@{} {:.4f}  ild@{} {:.4f}  category_coverage@{} {:.4f}",
                 s.setting.describe(), ks, get("ndcg"), ks, get("ild"), ks,
                 get("category_coverage"));
    }
    if (root) {
      std::vector<RerankSetting> ss;
      std::vector<std::map<std::string, double>> rows;
      for (const auto& s : result.settings) {
        ss.push_back(s.setting);
        rows.push_back(s.metrics);
      }
      const std::string stem = report_stem(config.report);
      write_sweep_csv(stem + ".csv", ss, rows);
      core::log0("sweep: {}", stem + ".csv");
      if (config.plot && plot_sweep(stem + ".csv", stem + ".png", k)) {
        core::log0("sweep plot: {}", stem + ".png");
      }
    }
  }
  if (!config.dump_lists.empty()) {
    write_dump_lists(config.dump_lists, std::move(pass.lines), manifest.num_users, comm);
    core::log0("lists: {}", config.dump_lists);
  }
  return pass.result;
}

}  // namespace divrec::eval
