// Recommender (see recommender.h): model rebuilt from the artifact, per-request encoding, the
// scoring kernel's candidates and re-ranking. Per-thread scratch keeps the hot path free of
// catalog-sized allocations; torch runs one intra-op thread per request thread (requests are the
// parallelism).
#include "serving/recommender.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (there since fmt 11)

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/check.h"
#include "eval/rerank/fair_reranker.h"
#include "serving/artifact_model.h"
#include "trainer/model/item_features.h"
#include "trainer/model/score_kernel.h"
#include "trainer/model/scoring.h"

namespace divrec::serving {

namespace {

// Scratch of one request thread (never shared; sized by the largest catalog seen).
struct Scratch {
  std::vector<float> user;  // [D]
  std::vector<int32_t> dense;
  std::vector<int32_t> cand_items;
  std::vector<float> cand_scores;
  eval::Workspace ws;
  eval::RerankResult result;
};

Scratch& scratch() {
  thread_local Scratch s;
  thread_local bool single_threaded = [] {
    at::set_num_threads(1);  // per thread (OpenMP); concurrency comes from request threads
    return true;
  }();
  (void)single_threaded;
  return s;
}

}  // namespace

Recommender::Recommender(Artifact artifact, model::ScorePrecision precision,
                         const eval::RetrievalOptions& retrieval, const std::string& artifact_path,
                         const FairnessOnline& fairness_online)
    : artifact_(std::move(artifact)) {
  auto t0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* name) {
    const auto t = std::chrono::steady_clock::now();
    load_seconds_.emplace_back(name, std::chrono::duration<double>(t - t0).count());
    t0 = t;
  };
  // Serving encodes histories from the item vectors, never from the id table: not attached, so
  // it is freed with the artifact's weights.
  // Nor is item content read while serving (histories come from the item vectors; only
  // append-items runs the item encoder): it moves into the model, without a copy when 16-bit,
  // and is freed there.
  model_ = rebuild_model(artifact_, IdTable::kOmit, model::TableContent::kTake);
  model_->item_encoder()->release_content();
  artifact_.weights.clear();  // now held by the model
  phase("model");

  const auto& t = artifact_.items;
  index_ = RawIdIndex(&t.raw_ids, "serving artifact '" + artifact_path + "'");
  by_popularity_.resize(static_cast<size_t>(t.num_items));
  for (int64_t i = 0; i < t.num_items; ++i) by_popularity_[i] = static_cast<int32_t>(i);
  std::stable_sort(by_popularity_.begin(), by_popularity_.end(),
                   [&](int32_t x, int32_t y) { return t.popularity[x] > t.popularity[y]; });
  phase("ids");
  const torch::Tensor& iv = artifact_.item_vectors;
  DIVREC_CHECK(iv.dim() == 2 && iv.size(0) == t.num_items && iv.is_contiguous() &&
                   iv.scalar_type() == torch::kFloat32,
               "serving artifact: item vectors must be contiguous float32 [", t.num_items,
               ", D], got ", iv.sizes());
  score_table_ = model::ScoreTable(iv.data_ptr<float>(), t.num_items, iv.size(1), precision);
  phase("score_table");
  candidates_ = CandidateSource::open(artifact_path, artifact_, retrieval);  // binds by their CRC
  phase("retrieval");
  // The item vectors are held once. fp32: the scoring panels hold their exact values, so history
  // rows and cosine rows are read from there and the [I, D] tensor is dropped. bf16: the panels
  // are rounded, so the fp32 tensor stays for encoding and cosine (what eval uses).
  if (precision == model::ScorePrecision::kFp32) {
    cosine_ = eval::ItemSimilarity::cosine_rows(
        [table = score_table_](int64_t item, float* out) { table.row(item, out); }, t.num_items,
        score_table_.dim());
    artifact_.item_vectors = torch::Tensor();
  } else {
    cosine_ = eval::ItemSimilarity::shared_cosine(
        std::shared_ptr<const float>(iv.data_ptr<float>(), [keep = iv](const float*) {}),
        t.num_items, iv.size(1));
  }
  jaccard_ = eval::ItemSimilarity::jaccard(artifact_.items);
  phase("similarity");
  DIVREC_CHECK_HINT(!fairness_online.enabled || artifact_.fairness.present(),
                    "export with --fairness-policy REPORT.json (divrec eval --fairness dual)",
                    "--fairness-online: the artifact has no fairness policy");
  if (artifact_.fairness.present()) {
    fairness_ = std::make_unique<FairnessState>(artifact_.fairness, fairness_online);
  }
}

std::shared_ptr<const Recommender> Recommender::load(const std::string& path,
                                                     model::ScorePrecision precision,
                                                     const eval::RetrievalOptions& retrieval,
                                                     const FairnessOnline& fairness_online) {
  const auto t0 = std::chrono::steady_clock::now();
  Artifact a = read_artifact(path);
  const double read_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto r = std::make_shared<Recommender>(std::move(a), precision, retrieval, path, fairness_online);
  r->load_seconds_.insert(r->load_seconds_.begin(), {"read", read_s});
  return r;
}

int32_t Recommender::dense_id(const std::string& raw_id) const { return index_.find(raw_id); }

const eval::ItemSimilarity& Recommender::similarity(eval::SimilarityKind kind) const {
  return kind == eval::SimilarityKind::kJaccard ? jaccard_ : cosine_;
}

void Recommender::item_vector(int32_t item, float* out) const {
  DIVREC_CHECK(item >= 0 && item < num_items(), "item ", item, " is outside the catalog [0, ",
               num_items(), ")");
  const auto& iv = artifact_.item_vectors;
  if (!iv.defined()) {
    score_table_.row(item, out);  // fp32 panels: the exact values
    return;
  }
  std::copy_n(iv.data_ptr<float>() + static_cast<int64_t>(item) * iv.size(1), iv.size(1), out);
}

void Recommender::user_vector(const int32_t* history, int64_t n, float* out) const {
  scratch();  // this thread's torch settings
  if (artifact_.item_vectors.defined() || n <= 0) {
    model::encode_history(*model_, artifact_.item_vectors, artifact_.causal(), history, n, out);
    return;
  }
  // Only the encoded window's rows (the last max_len items), gathered from the panels: the same
  // values as the full table, so the same user vector bits (scoring.h).
  const int64_t used = std::min<int64_t>(n, artifact_.config.max_len);
  std::vector<int64_t> ids(history + n - used, history + n);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const int64_t R = static_cast<int64_t>(ids.size()), D = score_table_.dim();
  auto rows = torch::empty({R, D}, torch::kFloat32);
  // ScoreTable::row throws for an id outside [0, I).
  for (int64_t r = 0; r < R; ++r) score_table_.row(ids[r], rows.data_ptr<float>() + r * D);
  const auto table_ids = torch::from_blob(ids.data(), {R}, torch::kInt64);
  model::encode_history(*model_, rows, artifact_.causal(), history, n, out, table_ids);
}

void Recommender::top_candidates(const int32_t* history, int64_t n, int count,
                                 std::vector<int32_t>& items, std::vector<float>& scores) const {
  // The functions `divrec eval` scores with, on the exported item vectors (the same bits as the
  // model's item_vectors()): served lists equal evaluated ones exactly.
  Scratch& s = scratch();
  s.user.resize(static_cast<size_t>(score_table_.dim()));
  user_vector(history, n, s.user.data());
  const model::ExcludeList exclude{history, n};
  candidates_.top_n(score_table_, s.user.data(), count, exclude, items, scores);
}

Recommendation Recommender::recommend(const RecommendRequest& request) const {
  Scratch& s = scratch();
  Recommendation rec;
  s.dense.clear();
  for (const auto& raw : request.history) {
    int32_t d = dense_id(raw);
    if (d < 0) {
      rec.unknown.push_back(raw);
    } else {
      s.dense.push_back(d);
    }
  }
  std::vector<int32_t> dense(s.dense);  // recommend_dense reuses the scratch
  auto out = recommend_dense(dense, request.settings);
  out.unknown = std::move(rec.unknown);
  return out;
}

Recommendation Recommender::recommend_dense(const std::vector<int32_t>& history,
                                            const RecommendSettings& settings) const {
  validate(settings);
  Scratch& s = scratch();
  const int64_t I = num_items();
  const auto& t = artifact_.items;
  for (int32_t h : history) {
    DIVREC_CHECK(h >= 0 && h < I, "history item ", h, " is outside the catalog [0, ", I, ")");
  }
  Recommendation rec;
  rec.history_used = static_cast<int64_t>(history.size());
  if (history.empty()) {
    rec.popularity_fallback = true;
    const size_t m = std::min<size_t>(static_cast<size_t>(settings.candidates), I);
    s.cand_items.assign(by_popularity_.begin(), by_popularity_.begin() + m);
    s.cand_scores.resize(m);
    for (size_t i = 0; i < m; ++i)
      s.cand_scores[i] = static_cast<float>(t.popularity[s.cand_items[i]]);
  } else {
    // The whole history is excluded, not only the encoded window (as in eval).
    top_candidates(history.data(), static_cast<int64_t>(history.size()), settings.candidates,
                   s.cand_items, s.cand_scores);
  }

  std::unique_ptr<eval::Reranker> reranker =
      eval::make_reranker(settings.rerank, similarity(settings.similarity), t);
  std::shared_ptr<const eval::ExposurePolicy> policy;  // this request's snapshot
  if (fairness_) {
    policy = fairness_->policy();
    reranker = std::make_unique<eval::FairReranker>(std::move(reranker), *policy);
  }
  eval::Candidates cands(s.cand_items.data(), s.cand_scores.data(),
                         static_cast<int>(s.cand_items.size()));
  eval::UserContext user(history.data(), static_cast<int64_t>(history.size()));
  reranker->rerank_into(cands, user, settings.k, settings.constraints, s.ws, s.result);
  if (fairness_) {
    fairness_->record(s.result.items.data(), static_cast<int>(s.result.items.size()));
  }

  const auto& r = s.result;
  rec.feasible = r.feasible;
  rec.violated = r.violated;
  rec.items.resize(r.items.size());
  for (size_t i = 0; i < r.items.size(); ++i) {
    auto& it = rec.items[i];
    it.index = r.items[i];
    it.item = t.raw_ids[it.index];
    it.score = r.scores[i];
    it.category = eval::category_of(t, it.index);
    if (it.category >= 0) it.category_name = t.category_names[it.category];
    it.reason = r.reasons[i];
  }
  return rec;
}

nlohmann::json Recommender::retrieval_json() const {
  const auto& o = candidates_.options();
  nlohmann::json j{{"mode", eval::retrieval_mode_name(o.mode)},
                   {"used", candidates_.ann() ? "ann" : "exact"}};
  if (candidates_.ann()) {
    j["index"] = artifact_.ann_index.file;
    j["kind"] = eval::ann_kind_name(candidates_.index()->kind());
    const auto [parameter, value] = candidates_.index()->search_parameter(o.search);
    j[parameter] = value;  // nprobe (0 resolved) for IVF, ef_search for HNSW
    j["min_candidates"] = o.min_candidates;
  }
  return j;
}

nlohmann::json Recommender::fairness_json() const {
  return fairness_ ? fairness_->describe() : nlohmann::json(nullptr);
}

nlohmann::json Recommender::describe() const {
  nlohmann::json load_json = nlohmann::json::object();
  for (const auto& [phase, seconds] : load_seconds_) load_json[phase] = seconds;
  const auto& a = artifact_;
  const auto& c = a.config;
  return {
      {"format_version", a.format_version},
      {"checksum_crc32", fmt::format("{:#010x}", a.checksum)},
      {"items", a.items.num_items},
      {"categories", a.items.num_categories},
      {"attributes", a.items.num_attributes},
      {"objective", a.objective},
      {"score_precision", model::score_precision_name(score_table_.precision())},
      {"retrieval", retrieval_json()},
      {"fairness", fairness_json()},
      {"load_seconds", load_json},
      {"config",
       {{"dim", c.dim},
        {"layers", c.layers},
        {"heads", c.heads},
        {"max_len", c.max_len},
        {"ffn_dim", c.ffn_size()},
        {"num_items", c.num_items},
        {"num_categories", c.num_categories},
        {"num_attributes", c.num_attributes},
        {"content_dim", c.content_dim},
        {"use_item_id", c.use_item_id},
        {"use_category", c.has_category()},
        {"use_attributes", c.has_attributes()},
        {"use_content", c.has_content()}}},
      {"defaults", to_json(a.defaults)},
      {"source_checkpoint", a.source_checkpoint},
  };
}

}  // namespace divrec::serving
