// CandidateBatches (see candidate_batches.h): the scoring loop that evaluate() has always run,
// moved here unchanged so a multi-pass driver can run it once.
#include "eval/candidate_batches.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/check.h"
#include "eval/user_blocks.h"
#include "trainer/model/scoring.h"

namespace divrec::eval {

namespace {

torch::Tensor resolve_item_table(const EvalInputs& in) {
  DIVREC_CHECK(in.model && in.items && in.rerank_similarity && in.users,
               "evaluate: model, items, rerank_similarity and users are required");
  torch::NoGradGuard no_grad;
  model::SeqModel model = in.model;  // a handle (shared) that is not const
  // Every item's vector once (the item encoder does not depend on the user).
  torch::Tensor t = in.item_table.defined()
                        ? in.item_table
                        : model->item_vectors().to(torch::kFloat32).contiguous();
  DIVREC_CHECK(t.is_contiguous() && t.scalar_type() == torch::kFloat32,
               "evaluate: the item table must be contiguous float32");
  return t;
}

}  // namespace

CandidateBatches::CandidateBatches(const EvalInputs& in, const EvalOptions& opt)
    : in_(in),
      opt_(opt),
      item_table_(resolve_item_table(in)),
      // Re-laid out once for the kernel (the bf16 copy rounds here).
      score_table_(item_table_.data_ptr<float>(), item_table_.size(0), item_table_.size(1),
                   opt.score_precision),
      stage_(score_table_, in.ann, opt.retrieval, std::max(1, opt.threads)) {
  DIVREC_CHECK(opt.batch_size > 0, "--batch-size must be positive, got ", opt.batch_size);
  const int64_t I = in.model->config().num_items;
  DIVREC_CHECK(I == in.items->num_items, "evaluate: the model scores ", I,
               " items but the item table has ", in.items->num_items);
  DIVREC_CHECK_HINT(in.device_scorer == nullptr || in.ann == nullptr,
                    "use --retrieval exact with --device cuda",
                    "evaluate: candidates come from the GPU or from an ANN index, not both");
  n_ = std::min<int64_t>(opt.candidates, I);
}

void CandidateBatches::run(const std::vector<int64_t>& rows, core::Progress* progress,
                           const BatchFn& fn) {
  model::SeqModel model = in_.model;  // a handle (shared) that is not const
  const data::UserSequences& seqs = *in_.users;
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int64_t D = item_table_.size(1);
  std::vector<float> user_buf;
  std::vector<model::ExcludeList> exclude;
  model::TopN top;
  std::vector<int64_t> batch;
  for (size_t start = 0, end = 0; start < rows.size(); start = end) {
    // One batch = this rank's users of one block of batch_size dense ids (see user_blocks.h).
    const int64_t block = user_block(seqs.user_ids[rows[start]], opt_.batch_size);
    end = start;
    while (end < rows.size() && user_block(seqs.user_ids[rows[end]], opt_.batch_size) == block) {
      ++end;
    }
    batch.assign(rows.begin() + static_cast<std::ptrdiff_t>(start),
                 rows.begin() + static_cast<std::ptrdiff_t>(end));
    const int64_t B = static_cast<int64_t>(batch.size());

    exclude.resize(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      exclude[b] = {seqs.seq(batch[b]), seqs.history_end(batch[b], opt_.split)};
    }
    if (in_.device_scorer != nullptr) {
      // --device cuda: the whole block encoded, scored and cut to N on the GPU.
      in_.device_scorer->top_n(exclude.data(), B, n_, top);
    } else {
      // Each user's vector on its own (model/scoring.h: independent of the batch), then the
      // candidate stage: the blocked kernel (exact scores, history excluded, top N by score then
      // lower id) or ANN candidates re-scored with the kernel's bits -- the lists `divrec
      // recommend` computes for the same history, precision and retrieval.
      user_buf.resize(static_cast<size_t>(B * D));
      at::parallel_for(0, B, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) {
          model::encode_history(*model, item_table_, in_.causal, seqs.seq(batch[b]),
                                seqs.history_end(batch[b], opt_.split), user_buf.data() + b * D);
        }
      });
      stage_.run(user_buf.data(), B, n_, exclude.data(), top);
    }
    fn(batch, top);
    if (progress) progress->advance(B);
  }
  if (was_training) model->train();
}

}  // namespace divrec::eval
