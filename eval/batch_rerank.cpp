// BatchReranker (see batch_rerank.h). Slot t owns pairs [t S B / T, (t + 1) S B / T) of the
// setting-major (setting, user) index space of a block, so each slot touches only ~S/T settings and
// keeps accumulators for just those (a sweep of S settings over a large catalog would otherwise
// hold S x T exposure histograms).
#include "eval/batch_rerank.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/check.h"

namespace divrec::eval {

BatchReranker::BatchReranker(const MetricSuite& suite, std::vector<const Reranker*> rerankers,
                             const Constraints& constraints, data::Split split, int max_k,
                             int threads, const ExposureGroups* groups, int group_k)
    : suite_(suite),
      rerankers_(std::move(rerankers)),
      constraints_(constraints),
      split_(split),
      max_k_(max_k),
      groups_(groups),
      group_k_(group_k),
      slots_(static_cast<size_t>(std::max(1, threads))) {
  DIVREC_CHECK(!rerankers_.empty(), "evaluate: no re-ranking setting");
  DIVREC_CHECK(groups_ == nullptr || group_k_ > 0, "group exposure needs a cut-off > 0");
  for (auto& slot : slots_) {
    slot.acc.resize(rerankers_.size());
    if (groups_) slot.group_counts.assign(groups_->names.size() * group_k_, 0);
  }
}

void BatchReranker::run(const data::UserSequences& seqs, const CandidateBlock& block,
                        const std::vector<std::string>* raw_user_ids,
                        std::vector<DumpLine>* lines) {
  DIVREC_CHECK(lines == nullptr || raw_user_ids != nullptr,
               "evaluate: dumping lists needs the users' raw ids");
  const std::vector<int64_t>& batch = *block.rows;
  const int64_t B = static_cast<int64_t>(batch.size());
  const int64_t S = static_cast<int64_t>(rerankers_.size());
  const int64_t T = static_cast<int64_t>(slots_.size());
  const int64_t N = block.n;
  const data::ItemTable& items = suite_.items();
  if (dists_.size() < static_cast<size_t>(B)) dists_.resize(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    dists_[b].compute(seqs.seq(batch[b]), seqs.history_end(batch[b], split_), items);
  }
  if (lines) block_lines_.assign(static_cast<size_t>(B), DumpLine{});

  at::parallel_for(0, T, 1, [&](int64_t t_begin, int64_t t_end) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      Slot& slot = slots_[static_cast<size_t>(t)];
      const int64_t lo = t * S * B / T, hi = (t + 1) * S * B / T;
      for (int64_t w = lo; w < hi; ++w) {
        const int64_t si = w / B, b = w % B;
        const int64_t u = batch[b];
        const int32_t* seq = seqs.seq(u);
        const int64_t hend = seqs.history_end(u, split_);
        const auto [tb, te] = seqs.targets(u, split_);
        Candidates cands(block.items + b * N, block.scores + b * N, block.count[b]);
        UserContext user(seq, hend, &dists_[b]);
        rerankers_[si]->rerank_into(cands, user, max_k_, constraints_, slot.ws, slot.result);
        auto& acc = slot.acc[static_cast<size_t>(si)];
        if (!acc) acc = std::make_unique<MetricAccumulator>(suite_.make_accumulator());
        const int len = static_cast<int>(slot.result.items.size());
        // Exact candidates hold every unmasked item unless the stage cut them at N.
        const RelevanceTies ties{cands, !block.ann && block.count[b] < N};
        suite_.add_user(*acc, slot.result.items.data(), len, seq + tb, static_cast<int>(te - tb),
                        dists_[b], slot.scratch, &ties);
        suite_.add_rerank_outcome(*acc, slot.result, constraints_);
        if (si != 0) continue;
        if (groups_) {
          count_group_exposure(*groups_, slot.result.items.data(), len, group_k_,
                               slot.group_counts.data());
        }
        if (lines) {
          const int64_t id = seqs.user_ids[u];
          block_lines_[b] =
              DumpLine{id, list_json_line((*raw_user_ids)[id], seq, hend, slot.result, items)};
        }
      }
    }
  });
  if (lines) {
    for (auto& l : block_lines_) lines->push_back(std::move(l));
  }
}

std::vector<SettingResult> BatchReranker::finalize(const std::vector<RerankSetting>& settings,
                                                   core::Communicator& comm) {
  DIVREC_CHECK(settings.size() == rerankers_.size(), "evaluate: ", settings.size(),
               " settings for ", rerankers_.size(), " re-rankers");
  // One exact aggregation per setting, in setting order on every rank.
  std::vector<SettingResult> out;
  for (size_t si = 0; si < settings.size(); ++si) {
    MetricAccumulator acc = suite_.make_accumulator();
    for (auto& slot : slots_) {
      if (slot.acc[si]) acc.merge(*slot.acc[si]);
    }
    SettingResult sr;
    sr.setting = settings[si];
    sr.metrics = acc.finalize(comm);
    auto it = sr.metrics.find("infeasible_users");
    sr.infeasible_users = it == sr.metrics.end() ? 0 : static_cast<int64_t>(it->second);
    out.push_back(std::move(sr));
  }
  return out;
}

std::vector<int64_t> BatchReranker::group_counts() const {
  std::vector<int64_t> total(slots_.front().group_counts.size(), 0);
  for (const auto& slot : slots_) {
    for (size_t i = 0; i < total.size(); ++i) total[i] += slot.group_counts[i];
  }
  return total;
}

}  // namespace divrec::eval
