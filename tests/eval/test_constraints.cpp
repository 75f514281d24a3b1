// Hard constraints: the mission's worked example with every method against brute-force
// feasibility, each constraint alone (hand examples), infeasibility detection and reasons, and
// the list checker against an independent implementation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "core/check.h"
#include "eval/rerank/reranker.h"
#include "eval_fixtures.h"

namespace divrec::eval {
namespace {

const RerankMethod kMethods[] = {RerankMethod::kNone, RerankMethod::kMmr, RerankMethod::kDpp,
                                 RerankMethod::kXquad, RerankMethod::kCalibrated};

std::unique_ptr<Reranker> method(RerankMethod m, const ItemSimilarity& sim,
                                 const data::ItemTable& t) {
  RerankConfig c;
  c.method = m;
  c.lambda = 0.5;
  c.theta = 1.0;
  return make_reranker(c, sim, t);
}

// Independent check of a list against the constraints (plain sets, no shared code).
std::set<std::string> independent_violations(const std::vector<int32_t>& list, const Constraints& c,
                                             const data::ItemTable& t, const ItemSimilarity& sim) {
  std::set<std::string> v;
  std::set<int32_t> cats, attrs, ids;
  std::map<int32_t, int> per_cat;
  int64_t attr_total = 0;
  bool every = true;
  for (int32_t item : list) {
    int32_t cat = t.category[item];
    if (cat >= 0) {
      cats.insert(cat);
      ++per_cat[cat];
    }
    const int64_t na = t.attr_offsets[item + 1] - t.attr_offsets[item];
    for (int64_t j = t.attr_offsets[item]; j < t.attr_offsets[item + 1]; ++j) {
      attrs.insert(t.attr_ids[j]);
    }
    attr_total += na;
    every = every && na >= c.min_attrs_per_item;
    ids.insert(item);
  }
  if (c.min_attrs_per_item > 0) {
    bool ok = c.attrs_per_item_average
                  ? attr_total >= static_cast<int64_t>(list.size()) * c.min_attrs_per_item
                  : every;
    if (!ok) v.insert("min_attrs_per_item");
  }
  if (c.max_per_category > 0) {
    for (auto& [cat, n] : per_cat)
      if (n > c.max_per_category) v.insert("max_per_category");
  }
  if (std::isfinite(c.max_similarity)) {
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (sim(list[i], list[j]) > c.max_similarity) v.insert("max_similarity");
  }
  if (c.min_categories > 0 && static_cast<int>(cats.size()) < c.min_categories) {
    v.insert("min_categories");
  }
  if (c.min_attributes > 0 && static_cast<int>(attrs.size()) < c.min_attributes) {
    v.insert("min_attributes");
  }
  if (c.min_distinct > 0 && static_cast<int>(ids.size()) < c.min_distinct) v.insert("min_distinct");
  return v;
}

// Whether some choice of `length` candidate positions satisfies every constraint.
bool exists_satisfying(const std::vector<int32_t>& cand, int length, const Constraints& c,
                       const data::ItemTable& t, const ItemSimilarity& sim) {
  const int n = static_cast<int>(cand.size());
  std::vector<int> pick(length);
  std::function<bool(int, int)> rec = [&](int start, int depth) {
    if (depth == length) {
      std::vector<int32_t> list;
      for (int p : pick) list.push_back(cand[p]);
      return independent_violations(list, c, t, sim).empty();
    }
    for (int p = start; p <= n - (length - depth); ++p) {
      pick[depth] = p;
      if (rec(p + 1, depth + 1)) return true;
    }
    return false;
  };
  return rec(0, 0);
}

struct RandomInstance {
  data::ItemTable table;
  std::vector<int32_t> items;
  std::vector<float> scores;
  std::vector<int32_t> history;
};

// 8 items with 1-3 categories and 0-3 of 6 attributes; 5-9 candidates drawn with repeats.
RandomInstance random_instance(std::mt19937& rng, int num_categories) {
  std::uniform_int_distribution<int> cat(0, num_categories - 1), na(0, 3), attr(0, 5);
  std::vector<int32_t> category(8);
  std::vector<std::vector<int32_t>> attrs(8);
  for (int i = 0; i < 8; ++i) {
    category[i] = cat(rng);
    std::set<int32_t> s;
    for (int j = 0, m = na(rng); j < m; ++j) s.insert(attr(rng));
    attrs[i].assign(s.begin(), s.end());
  }
  RandomInstance r{testutil::make_table(category, attrs, 3, 6), {}, {}, {}};
  std::uniform_int_distribution<int> n(5, 9), item(0, 7);
  const int num = n(rng);
  for (int i = 0; i < num; ++i) {
    r.items.push_back(item(rng));
    r.scores.push_back(1.0f - 0.1f * i);
  }
  for (int i = 0; i < 4; ++i) r.history.push_back(item(rng));
  return r;
}

// Runs every method on many random instances and checks: the list has min(k, n) items, it
// satisfies the constraints exactly when some choice of candidates does, and `violated` names
// what the independent check finds.
void check_complete(const Constraints& c, int k, int seeds) {
  int feasible_cases = 0, infeasible_cases = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    std::mt19937 rng(seed);
    auto inst = random_instance(rng, 1 + seed % 3);
    auto sim = ItemSimilarity::jaccard(inst.table);
    const int length = std::min<int>(k, static_cast<int>(inst.items.size()));
    const bool exists = exists_satisfying(inst.items, length, c, inst.table, sim);
    (exists ? feasible_cases : infeasible_cases) += 1;
    for (RerankMethod m : kMethods) {
      Workspace ws;
      auto r = method(m, sim, inst.table)
                   ->rerank(Candidates(inst.items, inst.scores),
                            UserContext(inst.history.data(), 4), k, c, ws);
      ASSERT_EQ(static_cast<int>(r.items.size()), length);
      auto v = independent_violations(r.items, c, inst.table, sim);
      EXPECT_EQ(r.feasible, exists) << "seed " << seed << " method " << rerank_method_name(m);
      EXPECT_EQ(r.feasible, v.empty()) << "seed " << seed;
      EXPECT_EQ(std::set<std::string>(r.violated.begin(), r.violated.end()), v) << "seed " << seed;
      // Every candidate position is used at most once.
      std::set<int32_t> pos(r.positions.begin(), r.positions.end());
      EXPECT_EQ(pos.size(), r.positions.size());
    }
  }
  // The generator must produce both kinds of instance, or the test proves little.
  EXPECT_GE(feasible_cases, seeds / 20);
  EXPECT_GE(infeasible_cases, seeds / 20);
}

// The mission's worked example: a 5-item list with >= 2 categories, >= 3 distinct items, and
// every item carrying >= 2 attributes.
Constraints worked_example() {
  Constraints c;
  c.min_categories = 2;
  c.min_distinct = 3;
  c.min_attrs_per_item = 2;
  return c;
}

TEST(Constraints, WorkedExampleEveryMethodSatisfiesWheneverPossible) {
  check_complete(worked_example(), 5, 300);
}

TEST(Constraints, SingleCountConstraintsAreCompleteOnRandomInstances) {
  Constraints cats;
  cats.min_categories = 3;
  check_complete(cats, 4, 150);
  Constraints distinct;
  distinct.min_distinct = 4;
  check_complete(distinct, 5, 150);
  Constraints per_item;
  per_item.min_attrs_per_item = 2;
  check_complete(per_item, 4, 150);
  Constraints per_cat;
  per_cat.max_per_category = 2;
  check_complete(per_cat, 5, 150);
  Constraints average;
  average.min_attrs_per_item = 2;
  average.attrs_per_item_average = true;
  check_complete(average, 4, 150);
}

// Items for the hand examples: categories and attribute lists.
//   item: 0 1 2 3 4 5 6 7
//   cat:  0 0 0 0 0 1 1 2
//   attrs: 0:{0,1} 1:{0,1} 2:{0,2} 3:{1} 4:{0,1,2} 5:{3,4} 6:{3} 7:{}
struct Hand {
  data::ItemTable table = testutil::make_table(
      {0, 0, 0, 0, 0, 1, 1, 2}, {{0, 1}, {0, 1}, {0, 2}, {1}, {0, 1, 2}, {3, 4}, {3}, {}}, 3, 5);
  ItemSimilarity sim = ItemSimilarity::jaccard(table);
  Workspace ws;
  RerankResult run(const std::vector<int32_t>& items, int k, const Constraints& c,
                   RerankMethod m = RerankMethod::kNone) {
    std::vector<float> scores;
    for (size_t i = 0; i < items.size(); ++i) scores.push_back(1.0f - 0.05f * i);
    return method(m, sim, table)->rerank(Candidates(items, scores), UserContext(), k, c, ws);
  }
};

TEST(Constraints, WorkedExampleHandCases) {
  Hand h;
  // Feasible: relevance would list five category-0 items; the constraint reserves the last slot
  // for item 5 (category 1, 2 attributes); item 3 (1 attribute) and 6 are never listed.
  auto r = h.run({0, 1, 3, 2, 4, 0, 6, 5}, 5, worked_example());
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 1, 2, 4, 5}));
  // Reasons: item 2 and item 4 stand where the method wanted item 3 (too few attributes); the
  // last slot was reserved by min_categories (the best allowed item, 0 again, adds no category).
  EXPECT_EQ(r.reasons,
            (std::vector<Reason>{Reason::kRelevance, Reason::kRelevance, Reason::kAttrsPerItem,
                                 Reason::kAttrsPerItem, Reason::kMinCategories}));
  // Infeasible: one category among the candidates. The list is still 5 long.
  r = h.run({0, 1, 2, 4, 0, 1}, 5, worked_example());
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.violated, (std::vector<std::string>{"min_categories"}));
  EXPECT_EQ(r.items.size(), 5u);
  // Infeasible: only two distinct items carry >= 2 attributes besides repeats.
  r = h.run({0, 0, 0, 5, 5, 3, 6}, 5, worked_example());
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.violated, (std::vector<std::string>{"min_distinct"}));
  // Feasible with repeats: items 0, 0, 2, 5, 5 (3 distinct, 2 categories).
  r = h.run({0, 0, 5, 5, 2, 3}, 5, worked_example());
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(std::multiset<int32_t>(r.items.begin(), r.items.end()),
            (std::multiset<int32_t>{0, 0, 2, 5, 5}));
}

TEST(Constraints, EachConstraintAlone) {
  Hand h;
  Constraints c;
  // 3 distinct among 4: 5, 5 by relevance; then 2 new items are needed with 2 slots left, so the
  // third 5 is rejected for 6, and the last slot must take 7.
  c.min_distinct = 3;
  auto r = h.run({5, 5, 5, 6, 6, 7}, 4, c);
  EXPECT_EQ(r.items, (std::vector<int32_t>{5, 5, 6, 7}));
  EXPECT_EQ(r.reasons, (std::vector<Reason>{Reason::kRelevance, Reason::kRelevance,
                                            Reason::kMinDistinct, Reason::kMinDistinct}));

  c = Constraints();
  c.max_per_category = 2;  // at most 2 of category 0, then 5, 6 (category 1), then 7
  r = h.run({0, 1, 2, 4, 5, 6, 7}, 5, c);
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 1, 5, 6, 7}));
  EXPECT_EQ(r.reasons[2], Reason::kMaxPerCategory);
  // Not enough other categories: best effort (the list is full), reported infeasible.
  r = h.run({0, 1, 2, 4, 5}, 5, c);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.violated, (std::vector<std::string>{"max_per_category"}));
  EXPECT_EQ(r.reasons.back(), Reason::kFallback);

  c = Constraints();
  c.min_attributes = 5;  // attributes {0,1} twice add nothing new; 5 {3,4} and 2 {0,2} do
  r = h.run({0, 1, 3, 5, 2, 6}, 3, c);
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 5, 2}));
  EXPECT_EQ(r.reasons[1], Reason::kMinAttributes);
  r = h.run({0, 1, 3, 6}, 3, c);  // only attributes {0,1,3} exist
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.violated, (std::vector<std::string>{"min_attributes"}));

  c = Constraints();
  c.min_attrs_per_item = 2;  // strict: every item; items 3, 6, 7 are skipped
  r = h.run({3, 0, 6, 7, 5, 1}, 3, c);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 5, 1}));
  EXPECT_EQ(r.reasons[0], Reason::kAttrsPerItem);
  // Average reading: attribute counts 1, 2, 1, 0, 2, 2; the mean over 3 items must be >= 2.
  c.attrs_per_item_average = true;
  r = h.run({3, 0, 6, 7, 5, 1}, 3, c);
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 5, 1}));
  // Candidates 7, 3, 4, 0, 7 carry 0, 1, 3, 2, 0 attributes: only {3, 4, 0} reaches 3 * 2 = 6.
  // Step 1: item 7 (0) would leave 6 for two slots (best 3 + 2 = 5): rejected; item 3 (1)
  // leaves 5 <= 3 + 2: picked. Step 2: item 4 leaves 2 <= 2. Step 3: item 0.
  r = h.run({7, 3, 4, 0, 7}, 3, c);
  EXPECT_TRUE(r.feasible);
  EXPECT_EQ(r.items, (std::vector<int32_t>{3, 4, 0}));
  EXPECT_EQ(r.reasons[0], Reason::kAttrsPerItem);

  c = Constraints();
  c.max_similarity = 0.6f;  // Jaccard: items 0 and 1 are identical sets (1.0); 0 and 4: 0.75
  r = h.run({0, 1, 4, 2, 5}, 3, c);
  EXPECT_TRUE(r.feasible);
  // 0 = {c0, a0, a1}; 2 = {c0, a0, a2}: 2/4 = 0.5 <= 0.6 -> allowed; 5 shares nothing.
  EXPECT_EQ(r.items, (std::vector<int32_t>{0, 2, 5}));
  EXPECT_EQ(r.reasons[1], Reason::kMaxSimilarity);
}

TEST(Constraints, WorksWithEveryMethodOnHandCase) {
  for (RerankMethod m : kMethods) {
    Hand h;
    auto r = h.run({0, 1, 3, 2, 4, 0, 6, 5}, 5, worked_example(), m);
    EXPECT_TRUE(r.feasible) << rerank_method_name(m);
    EXPECT_TRUE(independent_violations(r.items, worked_example(), h.table, h.sim).empty());
  }
}

TEST(Constraints, CheckerMatchesIndependentImplementation) {
  std::mt19937 rng(3);
  for (int seed = 0; seed < 300; ++seed) {
    auto inst = random_instance(rng, 3);
    auto sim = ItemSimilarity::jaccard(inst.table);
    Constraints c;
    std::uniform_int_distribution<int> u(0, 3);
    c.min_categories = u(rng);
    c.max_per_category = u(rng);
    c.min_attributes = u(rng) * 2;
    c.min_attrs_per_item = u(rng);
    c.attrs_per_item_average = seed % 2;
    c.max_similarity = seed % 3 ? 0.5f : std::numeric_limits<float>::infinity();
    c.min_distinct = u(rng) + 1;
    std::vector<int32_t> list(inst.items.begin(), inst.items.begin() + 5);
    auto got = violated_constraints(list, c, inst.table, sim);
    std::set<std::string> names;
    for (auto k : got) names.insert(constraint_name(k));
    EXPECT_EQ(names, independent_violations(list, c, inst.table, sim)) << "seed " << seed;
  }
}

TEST(Constraints, ValidationAndDescription) {
  Constraints c;
  EXPECT_FALSE(c.any());
  EXPECT_EQ(c.describe(), "none");
  c.min_categories = 2;
  c.min_attrs_per_item = 2;
  c.attrs_per_item_average = true;
  EXPECT_EQ(c.describe(), "min_categories=2 min_attrs_per_item(average)=2");
  c.min_distinct = -1;
  EXPECT_THROW(validate(c), divrec::Error);
}

}  // namespace
}  // namespace divrec::eval
