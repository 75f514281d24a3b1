// The evaluation pass (see evaluator.h): candidates block by block (candidate_batches.h: encoding
// and the blocked kernel on torch's intra-op threads), each block re-ranked and measured at once
// (batch_rerank.h: `threads` slots, fixed-point accumulators, so merging in any order gives
// bit-identical results), then one exact aggregation per setting.
#include "eval/evaluator.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "eval/batch_rerank.h"
#include "eval/candidate_batches.h"

namespace divrec::eval {

data::Split parse_eval_split(const std::string& name) {
  if (name == "test") return data::Split::kTest;
  if (name == "valid") return data::Split::kValid;
  DIVREC_FAIL("--split: unknown split '", name, "'; valid: test, valid");
}

const char* split_name(data::Split split) {
  switch (split) {
    case data::Split::kTrain:
      return "train";
    case data::Split::kValid:
      return "valid";
    case data::Split::kTest:
      return "test";
  }
  return "?";
}

std::vector<int64_t> evaluable_users(const data::UserSequences& seqs, data::Split split,
                                     int64_t max_users) {
  std::vector<int64_t> rows;
  for (int64_t u = 0; u < seqs.num_users(); ++u) {
    if (max_users > 0 && seqs.user_ids[u] >= max_users) continue;
    auto [tb, te] = seqs.targets(u, split);
    if (te > tb && seqs.history_end(u, split) > 0) rows.push_back(u);
  }
  return rows;
}

EvalPass evaluate(const EvalInputs& in, const EvalOptions& opt, core::Communicator& comm) {
  DIVREC_CHECK(in.model && in.items && in.rerank_similarity && in.users,
               "evaluate: model, items, rerank_similarity and users are required");
  DIVREC_CHECK(!opt.settings.empty(), "evaluate: no re-ranking setting");
  DIVREC_CHECK(!opt.ks.empty(), "--k: at least one cut-off is needed");
  DIVREC_CHECK(opt.batch_size > 0, "--batch-size must be positive, got ", opt.batch_size);
  DIVREC_CHECK(!opt.collect_lists || in.user_raw_ids != nullptr,
               "evaluate: dumping lists needs the users' raw ids");
  const int max_k = *std::max_element(opt.ks.begin(), opt.ks.end());
  DIVREC_CHECK(*std::min_element(opt.ks.begin(), opt.ks.end()) > 0, "--k: cut-offs must be > 0");
  DIVREC_CHECK_HINT(opt.candidates >= max_k, "raise --candidates or lower --k", "--candidates ",
                    opt.candidates, " is below the largest K ", max_k);
  validate(opt.constraints);
  CandidateBatches candidates(in, opt);
  const int64_t N = candidates.n();

  MetricOptions mo;
  mo.ks = opt.ks;
  mo.tail_max = opt.tail_max;
  MetricSuite suite(*in.items, in.ild_similarity, mo);
  std::vector<std::unique_ptr<Reranker>> rerankers;
  std::vector<const Reranker*> views;
  for (const auto& s : opt.settings) {
    rerankers.push_back(make_reranker(s.rerank, *in.rerank_similarity, *in.items));
    views.push_back(rerankers.back().get());
  }
  const int64_t S = static_cast<int64_t>(opt.settings.size());
  BatchReranker reranker(suite, views, opt.constraints, opt.split, max_k, std::max(1, opt.threads));

  const std::vector<int64_t> rows = evaluable_users(*in.users, opt.split, opt.max_users);
  const int64_t total_users = core::allreduce_scalar<int64_t>(
      comm, static_cast<int64_t>(rows.size()), core::ReduceOp::kSum);
  core::log0("eval: {} users on {} rank(s), {} setting(s), top-{} candidates, lists of {}",
             total_users, comm.world(), S, N, max_k);
  std::unique_ptr<core::Progress> progress;
  if (opt.progress) progress = std::make_unique<core::Progress>("eval (rank 0)", rows.size());
  const auto t0 = std::chrono::steady_clock::now();

  EvalPass pass;
  candidates.run(
      rows, progress.get(), [&](const std::vector<int64_t>& batch, const model::TopN& top) {
        // Re-rank with every setting and add every metric.
        const CandidateBlock block{&batch, top.items.data(), top.scores.data(), top.count.data(),
                                   N, candidates.stage().ann()};
        reranker.run(*in.users, block, in.user_raw_ids, opt.collect_lists ? &pass.lines : nullptr);
      });
  if (progress) progress->finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  EvalResult& r = pass.result;
  r.ranks = comm.world();
  r.seconds = core::allreduce_scalar<double>(comm, seconds, core::ReduceOp::kMax);
  r.settings = reranker.finalize(opt.settings, comm);
  r.users = total_users;
  fill_retrieval(candidates.stage(), N, comm, r);
  return pass;
}

void fill_retrieval(const CandidateStage& stage, int64_t n, core::Communicator& comm,
                    EvalResult& r) {
  r.retrieval = stage.ann() ? "ann" : "exact";
  r.recall_at = n;
  if (stage.ann()) {
    const int64_t hits =
        core::allreduce_scalar<int64_t>(comm, stage.recall_hits(), core::ReduceOp::kSum);
    const int64_t total =
        core::allreduce_scalar<int64_t>(comm, stage.recall_total(), core::ReduceOp::kSum);
    r.ann_recall = total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : 1.0;
  }
}

}  // namespace divrec::eval
