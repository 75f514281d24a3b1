// The evaluation pass (see evaluator.h). Encoding (one user per model call) and the blocked
// scoring kernel run on torch's intra-op threads; re-ranking and
// per-user metrics run on `threads` static slots over the (setting, user) pairs of a batch,
// setting-major, so each slot touches only ~S/T settings and keeps accumulators for just those
// (a sweep of S settings over a large catalog would otherwise hold S x T exposure histograms).
// Accumulators sum in fixed point, so merging them in any order gives bit-identical results.
#include "eval/evaluator.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "eval/candidate_stage.h"
#include "eval/user_blocks.h"
#include "trainer/model/score_kernel.h"
#include "trainer/model/scoring.h"

namespace divrec::eval {

namespace {

// Per-slot scratch, reused across batches.
struct Slot {
  Workspace ws;
  RerankResult result;
  MetricScratch scratch;
  std::vector<std::unique_ptr<MetricAccumulator>> acc;  // per setting, made on first use
};

}  // namespace

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
  model::SeqModel model = in.model;  // a handle (shared) that is not const
  const data::ItemTable& items = *in.items;
  const data::UserSequences& seqs = *in.users;
  const int max_k = *std::max_element(opt.ks.begin(), opt.ks.end());
  DIVREC_CHECK(*std::min_element(opt.ks.begin(), opt.ks.end()) > 0, "--k: cut-offs must be > 0");
  DIVREC_CHECK_HINT(opt.candidates >= max_k, "raise --candidates or lower --k", "--candidates ",
                    opt.candidates, " is below the largest K ", max_k);
  const int64_t I = model->config().num_items;
  DIVREC_CHECK(I == items.num_items, "evaluate: the model scores ", I,
               " items but the item table has ", items.num_items);
  const int64_t N = std::min<int64_t>(opt.candidates, I);
  validate(opt.constraints);

  MetricOptions mo;
  mo.ks = opt.ks;
  MetricSuite suite(items, in.ild_similarity, mo);
  std::vector<std::unique_ptr<Reranker>> rerankers;
  for (const auto& s : opt.settings) {
    rerankers.push_back(make_reranker(s.rerank, *in.rerank_similarity, items));
  }
  const int64_t S = static_cast<int64_t>(opt.settings.size());
  const int64_t T = std::max(1, opt.threads);
  std::vector<Slot> slots(static_cast<size_t>(T));
  for (auto& slot : slots) slot.acc.resize(static_cast<size_t>(S));

  const std::vector<int64_t> rows = evaluable_users(seqs, opt.split, opt.max_users);
  const int64_t total_users = core::allreduce_scalar<int64_t>(
      comm, static_cast<int64_t>(rows.size()), core::ReduceOp::kSum);
  core::log0("eval: {} users on {} rank(s), {} setting(s), top-{} candidates, lists of {}",
             total_users, comm.world(), S, N, max_k);
  std::unique_ptr<core::Progress> progress;
  if (opt.progress) progress = std::make_unique<core::Progress>("eval (rank 0)", rows.size());

  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  // Every item's vector once (the item encoder does not depend on the user).
  const torch::Tensor item_table = in.item_table.defined()
                                       ? in.item_table
                                       : model->item_vectors().to(torch::kFloat32).contiguous();
  DIVREC_CHECK(item_table.is_contiguous() && item_table.scalar_type() == torch::kFloat32,
               "evaluate: the item table must be contiguous float32");
  const int64_t D = item_table.size(1);
  // Re-laid out once for the kernel (the bf16 copy rounds here).
  const model::ScoreTable score_table(item_table.data_ptr<float>(), I, D, opt.score_precision);
  DIVREC_CHECK_HINT(in.device_scorer == nullptr || in.ann == nullptr,
                    "use --retrieval exact with --device cuda",
                    "evaluate: candidates come from the GPU or from an ANN index, not both");
  CandidateStage candidates(score_table, in.ann, opt.retrieval, static_cast<int>(T));
  std::vector<float> user_buf;
  std::vector<model::ExcludeList> exclude;
  model::TopN top;
  const auto t0 = std::chrono::steady_clock::now();

  EvalPass pass;
  std::vector<int64_t> batch;
  std::vector<CategoryDistribution> dists;
  std::vector<DumpLine> batch_lines;
  for (size_t start = 0, end = 0; start < rows.size(); start = end) {
    // One batch = this rank's users of one block of batch_size dense ids (see user_blocks.h).
    const int64_t block = user_block(seqs.user_ids[rows[start]], opt.batch_size);
    end = start;
    while (end < rows.size() && user_block(seqs.user_ids[rows[end]], opt.batch_size) == block) {
      ++end;
    }
    batch.assign(rows.begin() + static_cast<std::ptrdiff_t>(start),
                 rows.begin() + static_cast<std::ptrdiff_t>(end));
    const int64_t B = static_cast<int64_t>(batch.size());

    exclude.resize(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      exclude[b] = {seqs.seq(batch[b]), seqs.history_end(batch[b], opt.split)};
    }
    if (in.device_scorer != nullptr) {
      // --device cuda: the whole block encoded, scored and cut to N on the GPU.
      in.device_scorer->top_n(exclude.data(), B, N, top);
    } else {
      // Each user's vector on its own (model/scoring.h: independent of the batch), then the
      // candidate stage: the blocked kernel (exact scores, history excluded, top N by score then
      // lower id) or ANN candidates re-scored with the kernel's bits -- the lists `divrec
      // recommend` computes for the same history, precision and retrieval.
      user_buf.resize(static_cast<size_t>(B * D));
      at::parallel_for(0, B, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) {
          model::encode_history(*model, item_table, in.causal, seqs.seq(batch[b]),
                                seqs.history_end(batch[b], opt.split), user_buf.data() + b * D);
        }
      });
      candidates.run(user_buf.data(), B, N, exclude.data(), top);
    }
    if (dists.size() < static_cast<size_t>(B)) dists.resize(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      dists[b].compute(seqs.seq(batch[b]), seqs.history_end(batch[b], opt.split), items);
    }
    if (opt.collect_lists) batch_lines.assign(static_cast<size_t>(B), DumpLine{});

    // Re-rank with every setting and add every metric: slot t owns pairs [lo, hi) of the
    // setting-major (setting, user) index space.
    at::parallel_for(0, T, 1, [&](int64_t t_begin, int64_t t_end) {
      for (int64_t t = t_begin; t < t_end; ++t) {
        Slot& slot = slots[static_cast<size_t>(t)];
        const int64_t lo = t * S * B / T, hi = (t + 1) * S * B / T;
        for (int64_t w = lo; w < hi; ++w) {
          const int64_t si = w / B, b = w % B;
          const int64_t u = batch[b];
          const int32_t* seq = seqs.seq(u);
          const int64_t hend = seqs.history_end(u, opt.split);
          const auto [tb, te] = seqs.targets(u, opt.split);
          Candidates cands(top.items.data() + b * N, top.scores.data() + b * N, top.count[b]);
          UserContext user(seq, hend, &dists[b]);
          rerankers[si]->rerank_into(cands, user, max_k, opt.constraints, slot.ws, slot.result);
          auto& acc = slot.acc[static_cast<size_t>(si)];
          if (!acc) acc = std::make_unique<MetricAccumulator>(suite.make_accumulator());
          // Exact candidates hold every unmasked item unless the stage cut them at N; ANN
          // candidates never do.
          const RelevanceTies ties{cands, !candidates.ann() && top.count[b] < N};
          suite.add_user(*acc, slot.result.items.data(), static_cast<int>(slot.result.items.size()),
                         seq + tb, static_cast<int>(te - tb), dists[b], slot.scratch, &ties);
          suite.add_rerank_outcome(*acc, slot.result, opt.constraints);
          if (si == 0 && opt.collect_lists) {
            const int64_t id = seqs.user_ids[u];
            batch_lines[b] =
                DumpLine{id, list_json_line((*in.user_raw_ids)[id], seq, hend, slot.result, items)};
          }
        }
      }
    });
    if (opt.collect_lists) {
      for (auto& l : batch_lines) pass.lines.push_back(std::move(l));
    }
    if (progress) progress->advance(B);
  }
  if (progress) progress->finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (was_training) model->train();

  // One exact aggregation per setting, in setting order on every rank.
  EvalResult& r = pass.result;
  r.ranks = comm.world();
  r.seconds = core::allreduce_scalar<double>(comm, seconds, core::ReduceOp::kMax);
  for (int64_t si = 0; si < S; ++si) {
    MetricAccumulator acc = suite.make_accumulator();
    for (auto& slot : slots) {
      if (slot.acc[static_cast<size_t>(si)]) acc.merge(*slot.acc[static_cast<size_t>(si)]);
    }
    SettingResult sr;
    sr.setting = opt.settings[static_cast<size_t>(si)];
    sr.metrics = acc.finalize(comm);
    auto it = sr.metrics.find("infeasible_users");
    sr.infeasible_users = it == sr.metrics.end() ? 0 : static_cast<int64_t>(it->second);
    r.settings.push_back(std::move(sr));
  }
  r.users = total_users;
  r.retrieval = candidates.ann() ? "ann" : "exact";
  r.recall_at = N;
  if (candidates.ann()) {
    const int64_t hits =
        core::allreduce_scalar<int64_t>(comm, candidates.recall_hits(), core::ReduceOp::kSum);
    const int64_t total =
        core::allreduce_scalar<int64_t>(comm, candidates.recall_total(), core::ReduceOp::kSum);
    r.ann_recall = total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : 1.0;
  }
  return pass;
}

}  // namespace divrec::eval
