// The retrieval options shared by export, eval, recommend and serve: --retrieval exact|ann|auto
// with the search parameters (--ef-search, --nprobe, --ann-candidates), and the index build
// options (--ann-kind, --hnsw-m, --ef-construction, --ivf-nlist) of export and eval.
#pragma once

#include <string>

#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "launcher/cli.h"

namespace divrec::launcher {

struct RetrievalArgs {
  std::string mode;
  std::string kind = "auto";
  eval::RetrievalOptions search;
  eval::AnnBuildOptions build;
};

// --retrieval (default `default_mode`), --ef-search, --nprobe, --ann-candidates.
void add_retrieval_options(po::options_description& d, RetrievalArgs& a,
                           const std::string& default_mode);
// --ann-kind, --hnsw-m, --ef-construction, --ivf-nlist.
void add_ann_build_options(po::options_description& d, RetrievalArgs& a);

// Parsed and range-checked; errors name the option.
eval::RetrievalOptions resolve_retrieval(const RetrievalArgs& a);
// `threads` OpenMP threads build the index (0 = OpenMP's default).
eval::AnnBuildOptions resolve_ann_build(const RetrievalArgs& a, int threads);

}  // namespace divrec::launcher
