// CandidateSource (see candidate_source.h): the retrieval decision at load and the per-request
// candidates. Faiss runs one OpenMP thread per call (ann_top_n), so request threads never fan out.
#include "serving/candidate_source.h"

#include <chrono>

#include "core/check.h"
#include "core/log.h"
#include "eval/retrieval/ann_candidates.h"
#include "eval/retrieval/ann_store.h"

namespace divrec::serving {

CandidateSource CandidateSource::open(const std::string& artifact_path, const Artifact& a,
                                      const eval::RetrievalOptions& options) {
  CandidateSource out;
  out.options_ = options;
  const int64_t I = a.items.num_items;
  if (!eval::wants_ann(options.mode, I)) return out;
  if (options.mode == eval::RetrievalMode::kAuto && !a.ann_index.present()) {
    core::log0(
        "retrieval auto: {} items (>= {}) but '{}' has no ANN index: exact scoring (export with "
        "--retrieval ann to build one)",
        I, eval::kAutoAnnMinItems, artifact_path);
    return out;
  }
  DIVREC_CHECK_HINT(!artifact_path.empty(), "load the artifact from a file", "--retrieval ",
                    eval::retrieval_mode_name(options.mode),
                    ": the ANN index is found beside the artifact file, and none was given");
  const auto t0 = std::chrono::steady_clock::now();
  const auto& v = a.item_vectors;
  out.index_ = std::make_shared<const eval::AnnIndex>(
      eval::load_ann_for(artifact_path, a.ann_index, v.data_ptr<float>(), I, v.size(1)));
  out.load_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::log0("retrieval ann: {} index '{}' ({} items) loaded in {:.2f} s",
             eval::ann_kind_name(out.index_->kind()), a.ann_index.file, I, out.load_s_);
  return out;
}

void CandidateSource::top_n(const model::ScoreTable& table, const float* user, int64_t n,
                            const model::ExcludeList& exclude, std::vector<int32_t>& items,
                            std::vector<float>& scores) const {
  n = std::max<int64_t>(n, 0);
  if (index_) {
    thread_local eval::AnnScratch scratch;
    items.resize(static_cast<size_t>(n));
    scores.resize(static_cast<size_t>(n));
    const int count = eval::ann_top_n(*index_, table, user, n, exclude, options_, scratch,
                                      items.data(), scores.data());
    items.resize(static_cast<size_t>(count));
    scores.resize(static_cast<size_t>(count));
    return;
  }
  thread_local model::TopN top;
  model::score_top_n(table, user, 1, n, &exclude, model::ScoreOptions{}, top);
  items.assign(top.items.begin(), top.items.begin() + top.count[0]);
  scores.assign(top.scores.begin(), top.scores.begin() + top.count[0]);
}

}  // namespace divrec::serving
