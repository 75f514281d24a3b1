// `divrec eval`: options -> EvalConfig, communicator + threads, rank 0 prints and saves the
// resolved config next to the report (OUT.config.ini), then the distributed evaluation.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/check.h"
#include "core/comm/factory.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/threads.h"
#include "eval/run_eval.h"
#include "launcher/commands.h"
#include "launcher/retrieval_options.h"

namespace divrec::launcher {

namespace {

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    if (!tok.empty()) out.push_back(tok);
  }
  return out;
}

}  // namespace

int cmd_eval(const Args& args) {
  eval::EvalConfig c;
  auto& r = c.rerank;
  auto& k = c.constraints;
  std::string split = "test", ks = "5,10,20", method = "none", similarity = "cosine",
              precision = "fp32";
  std::string sweep_methods, comm_kind = "auto", exposure_weights = "uniform";
  auto& f = c.fairness;
  double max_similarity = std::numeric_limits<double>::infinity();
  po::options_description d;
  d.add_options()
    ("data", po::value(&c.data_dir)->required(), "dataset directory (divrec shard convert)")
    ("checkpoint", po::value(&c.checkpoint)->required(), "checkpoint file, or a run dir (its best.pt)")
    ("split", po::value(&split)->default_value(split), "test | valid")
    ("k", po::value(&ks)->default_value(ks), "cut-offs, e.g. 5,10,20 (lists have max K items)")
    ("candidates", po::value(&c.candidates)->default_value(c.candidates), "top-N scored items handed to the re-ranker")
    ("tail-max", po::value(&c.tail_max)->default_value(c.tail_max), "slices of the accuracy metrics by the target's train interactions: cold = 0, tail = 1..N, head = more")
    ("rerank", po::value(&method)->default_value(method), "none | mmr | dpp | xquad | calibrated")
    ("lambda", po::value(&r.lambda)->default_value(r.lambda), "[0, 1]; mmr: relevance weight, xquad/calibrated: diversity weight")
    ("theta", po::value(&r.theta)->default_value(r.theta), "dpp: quality exponent in [0, 40]")
    ("window", po::value(&r.window)->default_value(r.window), "dpp: sliding window (0 = off)")
    ("alpha", po::value(&r.alpha)->default_value(r.alpha), "calibrated: smoothing in (0, 1]")
    ("similarity", po::value(&similarity)->default_value(similarity), "cosine (model item vectors) | jaccard (category + attributes)")
    ("min-categories", po::value(&k.min_categories)->default_value(k.min_categories), "constraint: >= m categories per list (0 = off)")
    ("max-per-category", po::value(&k.max_per_category)->default_value(k.max_per_category), "constraint: <= c items per category (0 = off)")
    ("min-attributes", po::value(&k.min_attributes)->default_value(k.min_attributes), "constraint: >= a distinct attributes per list (0 = off)")
    ("min-attrs-per-item", po::value(&k.min_attrs_per_item)->default_value(k.min_attrs_per_item), "constraint: every item carries >= m attributes (0 = off)")
    ("attrs-per-item-average", po::bool_switch(&k.attrs_per_item_average), "min-attrs-per-item on the list average instead (a switch, as in recommend/serve)")
    ("max-similarity", po::value(&max_similarity)->default_value(max_similarity, "inf"), "constraint: no pair more similar than tau (inf = off)")
    ("min-distinct", po::value(&k.min_distinct)->default_value(k.min_distinct), "constraint: >= d distinct items (0 = off)")
    ("report", po::value(&c.report)->required(), "OUT.json (sweeps add OUT.csv, OUT.png)")
    ("sweep", po::value(&c.sweep), "PARAM=VALUES, e.g. lambda=0,0.1,...,1 (one pass for all)")
    ("sweep-methods", po::value(&sweep_methods), "methods to sweep, e.g. mmr,dpp,xquad,calibrated")
    ("fairness", po::value(&f.mode)->default_value(f.mode), "none | dual: global exposure targets across all users (group multipliers fitted over passes)")
    ("exposure-groups", po::value(&f.groups)->default_value(f.groups), "category | popularity-bins[:B] | FILE (raw_item_id,group lines)")
    ("exposure-target", po::value(&f.target)->default_value(f.target), "catalog | uniform | merit | FILE (group,share lines)")
    ("exposure-weights", po::value(&exposure_weights)->default_value(exposure_weights), "uniform (every top-K position counts 1) | log (1/log2(p+1))")
    ("exposure-tolerance", po::value(&f.tolerance)->default_value(f.tolerance), "goal: TVD(group exposure share, target) <= eps (< 0 = no TVD goal)")
    ("min-group-share", po::value(&f.min_group_share)->default_value(f.min_group_share), "goal: every group's exposure share >= s (0 = off)")
    ("fairness-passes", po::value(&f.max_passes)->default_value(f.max_passes), "re-ranking passes at most (pass 1: no multipliers)")
    ("fairness-step", po::value(&f.step)->default_value(f.step), "first dual step, in mean top-K score spreads")
    ("fairness-refine", po::value(&f.refine)->default_value(f.refine), "bisection passes toward the cheapest multipliers once the goal holds")
    ("exposure-k", po::value(&f.k)->default_value(f.k), "cut-off whose exposure counts (0 = 10 if in --k, else max K)")
    ("dump-lists", po::value(&c.dump_lists), "FILE.jsonl: every user's final list (sorted by user)")
    ("batch-size", po::value(&c.batch_size)->default_value(c.batch_size), "users per batch (scored in parallel, then re-ranked); ranks own blocks of this many ids")
    ("max-users", po::value(&c.max_users)->default_value(c.max_users), "evaluate users with dense id < N (0 = all)")
    ("plot", po::value(&c.plot)->default_value(c.plot), "sweeps: draw OUT.png (python3-matplotlib)")
    ("threads", po::value(&c.threads)->default_value(c.threads), "threads per rank (0 = auto)")
    ("score-precision", po::value(&precision)->default_value(precision), "fp32 | bf16: item matrix of the scoring kernel (recommend/serve must match)")
    ("device", po::value(&c.device)->default_value(c.device), "cpu (bit-equal to serving) | cuda | auto: where candidates are scored")
    ("precision", po::value(&c.precision)->default_value(c.precision), "fp32 | bf16 (--device cuda: autocast encoder and scores)")
    ("comm", po::value(&comm_kind)->default_value(comm_kind), "auto | mpi | nccl | local")
    ("ann-index", po::value(&c.ann_index), "ann: the index `divrec export` wrote beside the artifact (lists then equal recommend --retrieval ann's); without it one is built here");
  RetrievalArgs ra;
  add_retrieval_options(d, ra, "exact");
  add_ann_build_options(d, ra);
  po::variables_map vm;
  if (!parse_options("eval", args, d, vm)) return 0;
  c.retrieval = resolve_retrieval(ra);
  c.ann_build = resolve_ann_build(ra, 1);

  c.split = eval::parse_eval_split(split);
  c.score_precision = model::parse_score_precision(precision, "--score-precision");
  c.ks = parse_int_list("k", ks);
  r.method = eval::parse_rerank_method(method);
  c.similarity = eval::parse_similarity_kind(similarity);
  DIVREC_CHECK(!std::isnan(max_similarity), "--max-similarity must be a number or inf");
  k.max_similarity = static_cast<float>(max_similarity);
  c.sweep_methods = split_names(sweep_methods);
  f.weights = eval::parse_exposure_weights(exposure_weights);
  eval::validate(f);

  // CPU evaluation needs no NCCL communicator even where GPUs are visible.
  if (comm_kind == "auto" && c.device == "cpu") comm_kind = "mpi";
  auto comm = core::make_communicator(comm_kind);
  core::set_log_rank(comm->rank(), comm->world());
  c.threads = core::resolve_threads(c.threads);
  core::configure_threads(c.threads);
  core::log0("{}", format_config_table(
      fmt::format("divrec eval: {} rank(s), {} backend, {} thread(s)/rank", comm->world(),
                  comm->backend(), c.threads), vm));
  if (comm->rank() == 0) {
    const std::string dir = core::parent_dir(c.report);
    if (!dir.empty()) core::make_dirs(dir);
    core::write_file_atomic(eval::report_stem(c.report) + ".config.ini",
                            "# " + command_line() + "\n" + format_config_ini(vm));
  }
  eval::run_eval(c, *comm);
  return 0;
}

}  // namespace divrec::launcher
