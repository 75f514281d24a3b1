// Where a request's candidates come from: the exact kernel over the whole catalog, or the
// artifact's ANN index re-scored exactly (eval/retrieval/ann_candidates.h). Decided once at load
// from --retrieval (auto: ANN from kAutoAnnMinItems items on when the artifact has an index);
// immutable afterwards and shared by all request threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "serving/artifact.h"
#include "trainer/model/score_kernel.h"

namespace divrec::serving {

class CandidateSource {
 public:
  CandidateSource() = default;  // exact
  // ann: loads the index the artifact at `artifact_path` names and checks it against the item
  // vectors (throws naming both files when it is missing or foreign); auto: the same from
  // kAutoAnnMinItems items on if the artifact has an index, else exact; exact: no index.
  static CandidateSource open(const std::string& artifact_path, const Artifact& artifact,
                              const eval::RetrievalOptions& options);

  // The n most relevant items for `user` (D floats), history excluded, by exact score
  // descending then lower id. Thread-safe.
  void top_n(const model::ScoreTable& table, const float* user, int64_t n,
             const model::ExcludeList& exclude, std::vector<int32_t>& items,
             std::vector<float>& scores) const;

  bool ann() const { return index_ != nullptr; }
  const eval::RetrievalOptions& options() const { return options_; }  // as requested
  const eval::AnnIndex* index() const { return index_.get(); }
  double load_seconds() const { return load_s_; }

 private:
  eval::RetrievalOptions options_;
  std::shared_ptr<const eval::AnnIndex> index_;
  double load_s_ = 0;
};

}  // namespace divrec::serving
