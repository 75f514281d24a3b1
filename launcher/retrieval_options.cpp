// Retrieval options (see retrieval_options.h).
#include "launcher/retrieval_options.h"

#include "core/check.h"

namespace divrec::launcher {

void add_retrieval_options(po::options_description& d, RetrievalArgs& a,
                           const std::string& default_mode) {
  a.mode = default_mode;
  auto& s = a.search;
  // clang-format off
  d.add_options()
    ("retrieval", po::value(&a.mode)->default_value(a.mode), "exact | ann | auto (ann from 200000 items when an index exists): how the top candidates are found")
    ("ef-search", po::value(&s.search.ef_search)->default_value(s.search.ef_search), "ann, HNSW: search beam (HNSW indexes only: 384-512 for recall@200 >= 0.95 at 1 M items)")
    ("nprobe", po::value(&s.search.nprobe)->default_value(s.search.nprobe), "ann, IVF: lists visited per query (0 = sqrt(lists), at least 16: recall@200 ~0.99 at 1 M items, ~0.96 at 10 M)")
    ("ann-candidates", po::value(&s.min_candidates)->default_value(s.min_candidates), "ann: fetch max(this, N) + |history| items, then re-score them exactly");
  // clang-format on
}

void add_ann_build_options(po::options_description& d, RetrievalArgs& a) {
  auto& b = a.build;
  // clang-format off
  d.add_options()
    ("ann-kind", po::value(&a.kind)->default_value(a.kind), "ANN index: auto (ivf from 1000000 items, hnsw below) | hnsw | ivf")
    ("hnsw-m", po::value(&b.hnsw_m)->default_value(b.hnsw_m), "HNSW graph degree M (memory ~8*M bytes per item)")
    ("ef-construction", po::value(&b.ef_construction)->default_value(b.ef_construction), "HNSW build beam")
    ("ivf-nlist", po::value(&b.ivf_nlist)->default_value(b.ivf_nlist), "IVF lists (0 = 4*sqrt(items))");
  // clang-format on
}

eval::RetrievalOptions resolve_retrieval(const RetrievalArgs& a) {
  eval::RetrievalOptions o = a.search;
  o.mode = eval::parse_retrieval_mode(a.mode, "--retrieval");
  DIVREC_CHECK_HINT(o.search.ef_search >= 1, "typical values: 128-512",
                    "--ef-search must be >= 1, got ", o.search.ef_search);
  DIVREC_CHECK_HINT(o.search.nprobe >= 0, "typical values: 8-128; 0 picks sqrt(lists)",
                    "--nprobe must be >= 0, got ", o.search.nprobe);
  DIVREC_CHECK_HINT(o.min_candidates >= 1, "the default is 200",
                    "--ann-candidates must be >= 1, got ", o.min_candidates);
  o.search.threads = 1;
  return o;
}

eval::AnnBuildOptions resolve_ann_build(const RetrievalArgs& a, int threads) {
  eval::AnnBuildOptions b = a.build;
  b.kind = eval::parse_ann_kind(a.kind);
  DIVREC_CHECK_HINT(b.hnsw_m >= 2 && b.ef_construction >= 1, "typical values: M 16-48, 100-400",
                    "--hnsw-m must be >= 2 and --ef-construction >= 1, got ", b.hnsw_m, " and ",
                    b.ef_construction);
  DIVREC_CHECK_HINT(b.ivf_nlist >= 0, "0 picks 4*sqrt(items)", "--ivf-nlist must be >= 0, got ",
                    b.ivf_nlist);
  b.build_threads = threads;
  return b;
}

}  // namespace divrec::launcher
