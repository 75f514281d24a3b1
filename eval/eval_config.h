// Everything `divrec eval` can be told, as one plain struct (the launcher maps long options and
// INI keys onto it one to one; docs/cli.md, "divrec eval", lists them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/fairness_options.h"
#include "eval/rerank/constraints.h"
#include "eval/rerank/reranker.h"
#include "eval/rerank/similarity.h"
#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "trainer/model/score_kernel.h"

namespace divrec::eval {

struct EvalConfig {
  std::string data_dir;
  std::string checkpoint;  // a checkpoint file or a run directory (its best.pt)
  data::Split split = data::Split::kTest;
  std::vector<int> ks = {5, 10, 20};  // cut-offs; the final lists have max(ks) items
  int candidates = 200;               // top-N of the full-catalog scores handed to the re-ranker
  int64_t tail_max = 5;  // popularity slices: tail = 1..tail_max train interactions (suite.h)
  RerankConfig rerank;                // the evaluated method (or the base of a sweep)
  SimilarityKind similarity = SimilarityKind::kCosine;
  Constraints constraints;
  std::string report;                      // OUT.json (sweeps also write OUT.csv and OUT.png)
  std::string sweep;                       // "lambda=0,0.1,...,1" | "theta=..." | "" (no sweep)
  std::vector<std::string> sweep_methods;  // empty: the --rerank method only
  std::string dump_lists;                  // FILE.jsonl of every user's final list ("" = off)
  int64_t batch_size = 256;                // users scored per model call
  int threads = 0;                         // per rank, scoring and re-ranking (0 = auto)
  // Item matrix of the scoring kernel; `divrec recommend`/`serve` with the same precision
  // return exactly these lists.
  model::ScorePrecision score_precision = model::ScorePrecision::kFp32;
  // --retrieval exact|ann|auto (+ search parameters). ann/auto use --ann-index FILE (the index
  // `divrec export` wrote beside the artifact: lists then equal `divrec recommend --retrieval
  // ann`'s) or build one in-process from ann_build (one thread: deterministic, but slow).
  RetrievalOptions retrieval;
  std::string ann_index;
  AnnBuildOptions ann_build;
  // --device cpu (default: the kernel above, bit-equal to serving) | cuda | auto: candidates
  // from the GPU (device_scorer.h). --precision bf16 (cuda only): encoder and product autocast.
  std::string device = "cpu";
  std::string precision = "fp32";
  int64_t max_users = 0;  // evaluate the first N users by dense id (0 = all)
  bool plot = true;       // sweeps: make OUT.png with tools/plot_sweep.py
  // --fairness dual: global exposure targets (fair_exposure.h); --sweep then takes tolerance=...
  FairnessOptions fairness;
};

// "test" | "valid"; throws naming --split otherwise.
data::Split parse_eval_split(const std::string& name);
const char* split_name(data::Split split);

}  // namespace divrec::eval
