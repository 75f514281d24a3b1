// The pessimistic tie rule of the target metrics (eval/metrics/ties.h) on hand-made candidates and
// lists; the expected lists and metric values are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eval/metrics/ranking.h"
#include "eval/metrics/ties.h"

using namespace divrec::eval;

namespace {

struct Case {
  std::vector<int32_t> items;
  std::vector<float> scores;
  bool complete = true;
  RelevanceTies ties() const { return {Candidates(items, scores), complete}; }
};

std::vector<int32_t> view(const std::vector<int32_t>& list, const std::vector<int32_t>& targets,
                          const Case& c, bool* changed = nullptr) {
  std::vector<int32_t> out;
  bool ch = pessimistic_target_list(list.data(), static_cast<int>(list.size()), targets.data(),
                                    static_cast<int>(targets.size()), c.ties(), out);
  if (changed != nullptr) *changed = ch;
  return out;
}

}  // namespace

TEST(Ties, NoTieLeavesTheListAlone) {
  Case c{{10, 11, 12, 13}, {4, 3, 2, 1}};
  bool changed = true;
  EXPECT_EQ(view({10, 11, 12, 13}, {11}, c, &changed), (std::vector<int32_t>{10, 11, 12, 13}));
  EXPECT_FALSE(changed);
}

TEST(Ties, TargetMovesBehindListedTies) {
  // Relevance order, 11 and 12 tie: the target 11 takes 12's place (rank 2 = 1 higher + 1 tied).
  Case c{{10, 11, 12, 13}, {3, 2, 2, 1}};
  const std::vector<int32_t> list{10, 11, 12, 13};
  auto v = view(list, {11}, c);
  EXPECT_EQ(v, (std::vector<int32_t>{10, 12, 11, 13}));
  const int32_t t = 11;
  EXPECT_EQ(ranking_metrics(v.data(), 4, &t, 1, 2).hr, 0.0);
  EXPECT_EQ(ranking_metrics(v.data(), 4, &t, 1, 3).hr, 1.0);
  EXPECT_DOUBLE_EQ(ranking_metrics(v.data(), 4, &t, 1, 3).ndcg, 0.5);  // 1 / log2(4)
  // A tie between non-targets changes nothing.
  bool changed = true;
  EXPECT_EQ(view(list, {13}, c, &changed), list);
  EXPECT_FALSE(changed);
}

TEST(Ties, UnlistedTieOrIncompleteCandidatesPushTheTargetOut) {
  Case c{{10, 11, 12, 13}, {3, 2, 2, 1}};
  // 12 ties with the target but the list (of 2) left it out: it ranks after the list, so the
  // target does too -- a miss, as the trainer's rank 2 is.
  EXPECT_EQ(view({10, 11}, {11}, c), (std::vector<int32_t>{10, -1}));
  // Candidates cut at N = 2 with the N-th tying: more items may tie beyond N.
  Case cut{{10, 11}, {3, 2}, false};
  EXPECT_EQ(view({10, 11}, {11}, cut), (std::vector<int32_t>{10, -1}));
  cut.complete = true;
  EXPECT_EQ(view({10, 11}, {11}, cut), (std::vector<int32_t>{10, 11}));
  // Not tying with the N-th candidate: nothing beyond N can tie.
  Case cut2{{10, 11, 12}, {3, 2, 1}, false};
  EXPECT_EQ(view({10, 11, 12}, {11}, cut2), (std::vector<int32_t>{10, 11, 12}));
}

TEST(Ties, ReRankedListsSwapOnlyTheGroupsPositions) {
  // An MMR-like list [11, 13, 12] where 11 (target) and 12 tie: the group's slots are 0 and 2.
  Case c{{11, 12, 13}, {5, 5, 4}};
  EXPECT_EQ(view({11, 13, 12}, {11}, c), (std::vector<int32_t>{12, 13, 11}));
}

TEST(Ties, SeveralTargetsTakeTheGroupsLastSlots) {
  // 1, 2 (targets) and 3 tie: 3 first, then the targets in list order; with 4 (also tied)
  // unlisted, one target is pushed out: the slots get 3, -1, 1.
  Case c3{{1, 2, 3}, {7, 7, 7}};
  EXPECT_EQ(view({1, 2, 3}, {1, 2}, c3), (std::vector<int32_t>{3, 1, 2}));
  Case c{{1, 2, 3, 4}, {7, 7, 7, 7}};
  EXPECT_EQ(view({1, 2, 3}, {2, 1}, c), (std::vector<int32_t>{3, -1, 1}));
  // An unlisted target in the group is not a competitor.
  EXPECT_EQ(view({1, 3}, {1, 2}, c3), (std::vector<int32_t>{3, 1}));
}

TEST(Ties, IssueHandCaseFiveIdenticalCandidates) {
  // 7 identical items, 2 masked: 5 candidates with one score; whichever the list puts first, the
  // target ranks 5th: HR@1 = 0, HR@5 = 1, NDCG@5 = 1 / log2(6).
  Case c{{0, 1, 2, 3, 4}, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f}};
  for (int32_t t = 0; t < 5; ++t) {
    auto v = view({0, 1, 2, 3, 4}, {t}, c);
    EXPECT_EQ(ranking_metrics(v.data(), 5, &t, 1, 1).hr, 0.0) << t;
    EXPECT_EQ(ranking_metrics(v.data(), 5, &t, 1, 5).hr, 1.0) << t;
    EXPECT_NEAR(ranking_metrics(v.data(), 5, &t, 1, 5).ndcg, 1.0 / std::log2(6.0), 1e-15) << t;
    EXPECT_NEAR(1.0 / std::log2(6.0), 0.386853, 1e-6);
  }
}

TEST(Ties, NonFiniteOrUnknownScoresKeepPositions) {
  Case c{{10, 11}, {NAN, NAN}};
  EXPECT_EQ(view({10, 11}, {10}, c), (std::vector<int32_t>{10, 11}));
  Case d{{10}, {1}};
  EXPECT_EQ(view({11, 10}, {11}, d), (std::vector<int32_t>{11, 10}));
}
