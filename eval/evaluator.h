// The distributed evaluation pass: each rank scores its users' histories against the full catalog
// (history items masked), keeps the top-N candidates, re-ranks them with every configured setting
// on several threads, and accumulates every metric at every K; one exact aggregation per setting
// at the end. A sweep is the same pass with many settings (scoring and top-N done once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/comm/communicator.h"
#include "data_shards/dataset.h"
#include "eval/device_scorer.h"
#include "eval/dump_lists.h"
#include "eval/metrics/suite.h"
#include "eval/report.h"
#include "eval/rerank/reranker.h"
#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "eval/sweep.h"
#include "trainer/model/score_kernel.h"
#include "trainer/model/seq_model.h"

namespace divrec::eval {

struct EvalOptions {
  data::Split split = data::Split::kTest;
  std::vector<int> ks = {5, 10, 20};
  int candidates = 200;                 // top-N handed to the re-ranker (>= max K)
  int64_t tail_max = 5;                 // MetricOptions::tail_max (cold / tail / head slices)
  std::vector<RerankSetting> settings;  // at least one
  Constraints constraints;
  // Users per model call, and the block size of user ownership: a batch is this rank's users
  // among dense ids [g * batch_size, (g + 1) * batch_size). When each rank holds whole blocks
  // (read_user_blocks with the same size), batches are the same for any number of ranks and so
  // are the scores, bit for bit.
  int64_t batch_size = 256;
  int threads = 1;  // scoring ranges and re-ranking slots (torch's pool runs them)
  // Item matrix of the scoring kernel (model/score_kernel.h): lists equal `divrec recommend`'s
  // with the same precision.
  model::ScorePrecision score_precision = model::ScorePrecision::kFp32;
  // Candidates from ANN (EvalInputs::ann) re-scored exactly when set; search parameters here.
  RetrievalOptions retrieval;
  int64_t max_users = 0;       // only users with dense id < max_users (0 = all)
  bool collect_lists = false;  // DumpLines of settings[0] (needs user_raw_ids)
  bool progress = true;        // core::Progress line with ETA on rank 0
};

// What a pass needs besides the options. The pointers must stay valid during evaluate().
struct EvalInputs {
  model::SeqModel model{nullptr};
  bool causal = true;  // next-item model (else [MASK] appended)
  // model->item_vectors() as float32, contiguous, when the caller already has it (run_eval
  // computes it for the cosine similarity); evaluate() computes it when undefined.
  torch::Tensor item_table;
  const data::ItemTable* items = nullptr;
  const ItemSimilarity* rerank_similarity = nullptr;       // what the re-rankers diversify over
  const ItemSimilarity* ild_similarity = nullptr;          // ild@k (null: not reported)
  const data::UserSequences* users = nullptr;              // this rank's users (read_user_blocks)
  const std::vector<std::string>* user_raw_ids = nullptr;  // by dense id, for dumped lists
  const AnnIndex* ann = nullptr;  // --retrieval ann: built over item_table (null = exact)
  // --device cuda: candidates from the GPU (device_scorer.h; not bit-equal to serving); null =
  // the CPU kernel. Exclusive with ann.
  DeviceScorer* device_scorer = nullptr;
};

struct EvalPass {
  EvalResult result;            // global: identical on every rank
  std::vector<DumpLine> lines;  // this rank's lists of settings[0] when collect_lists
};

// Users of `seqs` that the split can evaluate: a non-empty target range and a non-empty history
// (the rule trainer::evaluate_ranking uses), with dense id < max_users when max_users > 0.
std::vector<int64_t> evaluable_users(const data::UserSequences& seqs, data::Split split,
                                     int64_t max_users = 0);

// Collective: every rank calls it with its own users. Targets are all items of the split's target
// range (leave-one-out: one). Throws on invalid options (candidates < max K, no setting, ...).
EvalPass evaluate(const EvalInputs& inputs, const EvalOptions& options, core::Communicator& comm);

class CandidateStage;
// Collective: r.retrieval, r.recall_at = n and (ANN) the global recall@N of the stage's runs.
void fill_retrieval(const CandidateStage& stage, int64_t n, core::Communicator& comm,
                    EvalResult& r);

}  // namespace divrec::eval
