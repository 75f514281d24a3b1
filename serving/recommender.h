// Recommender: a loaded serving artifact answering requests. History (raw ids) -> user vector
// (the transformer over the precomputed item vectors) -> the blocked scoring kernel (exact scores,
// history excluded, top N) -> re-ranking + constraints (eval/rerank) -> k items with reasons.
// Immutable after construction and safe for concurrent requests (per-thread scratch).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "eval/rerank/reranker.h"
#include "eval/rerank/similarity.h"
#include "serving/artifact.h"
#include "serving/candidate_source.h"
#include "serving/fairness_state.h"
#include "serving/raw_id_index.h"
#include "serving/request_types.h"
#include "serving/settings.h"
#include "trainer/model/score_kernel.h"
#include "trainer/model/seq_model.h"

namespace divrec::serving {

class Recommender {
 public:
  // Rebuilds the model from the artifact (eval mode, no autograd), indexes the raw ids and lays
  // the item vectors out for the scoring kernel in `precision` (--score-precision). `retrieval`
  // (--retrieval) may load the ANN index named by the artifact found at `artifact_path`.
  explicit Recommender(Artifact artifact,
                       model::ScorePrecision precision = model::ScorePrecision::kFp32,
                       const eval::RetrievalOptions& retrieval = {},
                       const std::string& artifact_path = "",
                       const FairnessOnline& fairness_online = {});
  // fairness_online: --fairness-online (needs an artifact exported with --fairness-policy).
  static std::shared_ptr<const Recommender> load(
      const std::string& path, model::ScorePrecision precision = model::ScorePrecision::kFp32,
      const eval::RetrievalOptions& retrieval = {}, const FairnessOnline& fairness_online = {});
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  // Raw ids -> dense (unknown ids listed, not an error), then recommend_dense. Validates the
  // settings (divrec::Error naming the field).
  Recommendation recommend(const RecommendRequest& request) const;
  // Dense history (ids in [0, I), oldest first). With an exported fairness policy the candidates
  // get its group multipliers before the re-ranker (eval/rerank/fair_reranker.h) and the list is
  // counted in the running group exposure (fairness_state.h). An empty history gives the popularity
  // fallback: candidates are the N most popular items (train interactions, ties by dense id)
  // scored by their popularity count, then re-ranked like any other list.
  Recommendation recommend_dense(const std::vector<int32_t>& history,
                                 const RecommendSettings& settings) const;

  // The n most relevant items for a non-empty dense history, history excluded, by score
  // descending then LOWER dense id: model::encode_history, then model::score_top_n with B = 1 --
  // what `divrec eval` computes for the same history and precision (bit-identical scores) -- or,
  // with ANN retrieval, the index's candidates re-scored by the same kernel (candidate_source.h).
  void top_candidates(const int32_t* history, int64_t n, int count, std::vector<int32_t>& items,
                      std::vector<float>& scores) const;
  // The user vector (model::encode_history) of a non-empty dense history: D float32 into out.
  void user_vector(const int32_t* history, int64_t n, float* out) const;
  // The exported (fp32) vector of dense item `item`: D float32 into out. Throws outside [0, I).
  void item_vector(int32_t item, float* out) const;

  // The artifact as loaded, less what moved elsewhere: weights (into the model; the item-id
  // table is dropped), items.content / content_bits (empty: moved into the model, which frees
  // them, as serving never reads content; artifact_checksum / write_artifact do not apply to
  // this copy) and,
  // with fp32 scoring, item_vectors (empty: the score table's panels are the one copy; read rows
  // with item_vector()).
  const Artifact& artifact() const { return artifact_; }
  const data::ItemTable& items() const { return artifact_.items; }
  const RecommendSettings& defaults() const { return artifact_.defaults; }
  model::ScorePrecision score_precision() const { return score_table_.precision(); }
  size_t score_table_bytes() const { return score_table_.bytes(); }
  const CandidateSource& candidates() const { return candidates_; }
  int64_t num_items() const { return artifact_.items.num_items; }
  int32_t dense_id(const std::string& raw_id) const;  // -1 when unknown
  // What GET /v1/model reports: format version, checksum, catalog sizes, config, defaults.
  nlohmann::json describe() const;
  // The fairness policy's state (multipliers, running shares), or null when the artifact has none.
  nlohmann::json fairness_json() const;
  // What --fairness-online said (a reload keeps it).
  FairnessOnline fairness_online() const {
    return fairness_ ? fairness_->online() : FairnessOnline{};
  }
  // {"mode": --retrieval, "used": "exact" | "ann", and for ann the index file and parameters}.
  nlohmann::json retrieval_json() const;
  // Seconds each load phase took, in order: read (file checksum, arrays, artifact checksum; only
  // through load()), model, ids (raw-id index, popularity order), score_table, retrieval (the ANN
  // index), similarity. Also in describe() as "load_seconds".
  const std::vector<std::pair<std::string, double>>& load_seconds() const { return load_seconds_; }

 private:
  const eval::ItemSimilarity& similarity(eval::SimilarityKind kind) const;

  Artifact artifact_;
  mutable model::SeqModel model_{nullptr};  // forward passes only (eval mode, no grad)
  RawIdIndex index_;                        // over artifact_.items.raw_ids
  std::vector<int32_t> by_popularity_;  // dense ids, most popular first (fallback order)
  eval::ItemSimilarity cosine_;
  eval::ItemSimilarity jaccard_;
  model::ScoreTable score_table_;  // the item vectors re-laid out (fp32: their only copy, or bf16)
  CandidateSource candidates_;               // exact, or the artifact's ANN index
  std::unique_ptr<FairnessState> fairness_;  // null: the artifact has no fairness policy
  std::vector<std::pair<std::string, double>> load_seconds_;
};

}  // namespace divrec::serving
