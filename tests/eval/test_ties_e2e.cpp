// Issue cases end to end, trainer validation against `divrec eval` (run_eval) on tiny amazon-s3rec
// catalogs: a masked test target is a miss at every K, even K >= the catalog, and a model whose
// item vectors are all identical earns the pessimistic tie rule's hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/comm/communicator.h"
#include "eval/evaluator_fixture.h"
#include "eval/model_loader.h"
#include "eval/run_eval.h"
#include "trainer/validation.h"

using namespace divrec;

namespace {

// DIR/data from "user item item ..." lines (every item gets attribute 1); DIR/model.pt a seeded
// random model, or with identical_items one whose item vectors are all the same (every embedding
// zero, every bias 0.1).
std::string make_case(const std::string& name, const std::string& lines, bool identical_items) {
  const std::string dir = divrec::testing::eval_scratch_dir(name);
  std::ofstream(dir + "/X.txt") << lines;
  std::ofstream json(dir + "/X_item2attributes.json");
  json << "{";
  for (int i = 1; i <= 7; ++i) json << (i > 1 ? ", " : "") << "\"" << i << "\": [1]";
  json << "}";
  json.close();
  data::AmazonS3RecOptions ao;
  ao.input = dir;
  data::WriteOptions wo;
  wo.output_dir = dir + "/data";
  wo.num_shards = 1;
  data::write_dataset(data::convert_amazon_s3rec(ao), wo);
  auto table = data::read_item_table(wo.output_dir);
  const auto mc = divrec::testing::fixture_model_config(table);
  torch::manual_seed(11);
  model::SeqModel m(mc, model::ItemFeatures::from_table(table));
  if (identical_items) {
    torch::NoGradGuard ng;
    for (auto& p : m->named_parameters()) {
      const bool bias = p.key().size() >= 4 && p.key().substr(p.key().size() - 4) == "bias";
      p.value().fill_(bias ? 0.1 : 0.0);
    }
  }
  divrec::testing::save_fixture_checkpoint(dir + "/model.pt", m, mc);
  return dir;
}

std::map<std::string, double> trainer_metrics(const std::string& dir, std::vector<int> ks) {
  auto items = data::read_item_table(dir + "/data");
  auto seqs = data::read_all_users(dir + "/data");
  auto loaded = eval::load_model_for_eval(dir + "/model.pt", items);
  trainer::RankingConfig rc;
  rc.ks = std::move(ks);
  rc.max_len = 20;
  rc.sampled_99 = false;
  std::vector<int64_t> users(seqs.num_users());
  for (int64_t u = 0; u < seqs.num_users(); ++u) users[u] = u;
  core::LocalCommunicator local;
  return trainer::evaluate_ranking(loaded.model, seqs, users, data::Split::kTest, rc, local);
}

std::map<std::string, double> eval_metrics(const std::string& dir, std::vector<int> ks,
                                           eval::RerankMethod method) {
  eval::EvalConfig c;
  c.data_dir = dir + "/data";
  c.checkpoint = dir + "/model.pt";
  c.ks = std::move(ks);
  c.candidates = 10;
  c.rerank.method = method;
  c.report = dir + "/report_" + std::string(eval::rerank_method_name(method)) + ".json";
  c.threads = 1;
  core::LocalCommunicator local;
  return eval::run_eval(c, local).settings.at(0).metrics;
}

}  // namespace

TEST(RankOfTarget, TiesRankAheadAndMaskedTargetsAreUnranked) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> s{1, 2, 2, -inf, 2, 3};
  EXPECT_EQ(trainer::rank_of_target(s.data(), 6, 1), 3);  // 3 higher, then 2 tied (4 and 2)
  EXPECT_EQ(trainer::rank_of_target(s.data(), 6, 5), 0);
  EXPECT_EQ(trainer::rank_of_target(s.data(), 6, 0), 4);
  EXPECT_EQ(trainer::rank_of_target(s.data(), 6, 3), trainer::kUnrankedTarget);
}

TEST(TiesEndToEnd, MaskedTargetIsAMissEvenWhenKCoversTheCatalog) {
  // Issue case: 6 items; user 1's test item 3 is also in its history, so it is masked. The other
  // 4 users' targets are unmasked and K = 10 >= 6 lists every unmasked item: HR@10 = 4/5.
  const auto dir = make_case("masked", "1 1 3 5 3\n2 2 4 6\n3 4 6 1\n4 6 2 5\n5 1 2 4\n", false);
  auto tr = trainer_metrics(dir, {1, 3, 10});
  auto ev = eval_metrics(dir, {1, 3, 10}, eval::RerankMethod::kNone);
  EXPECT_EQ(tr.at("users"), 5);
  EXPECT_EQ(ev.at("users"), 5);
  EXPECT_DOUBLE_EQ(tr.at("hr@10"), 0.8);
  EXPECT_DOUBLE_EQ(ev.at("hr@10"), 0.8);
  for (const char* k : {"hr@1", "hr@3", "ndcg@1", "ndcg@3", "ndcg@10"}) {
    EXPECT_NEAR(tr.at(k), ev.at(k), 1e-9) << k;
  }
}

TEST(TiesEndToEnd, IdenticalItemVectorsGetThePessimisticRank) {
  // 7 items with one vector; every user's test history holds 2 distinct items, so its target ties
  // with 4 others: HR@1 = 0, HR@5 = 1, NDCG@5 = 1 / log2(6) = 0.387, by hand -- in the trainer
  // and in eval with every re-ranker (the lists differ, the rule does not).
  const auto dir = make_case("identical", "1 1 2 3\n2 4 5 6\n3 7 1 2\n", true);
  const double ndcg5 = 1.0 / std::log2(6.0);
  auto tr = trainer_metrics(dir, {1, 5});
  EXPECT_EQ(tr.at("users"), 3);
  EXPECT_EQ(tr.at("hr@1"), 0.0);
  EXPECT_EQ(tr.at("hr@5"), 1.0);
  EXPECT_NEAR(tr.at("ndcg@5"), ndcg5, 1e-12);
  for (auto method : {eval::RerankMethod::kNone, eval::RerankMethod::kMmr, eval::RerankMethod::kDpp,
                      eval::RerankMethod::kXquad}) {
    auto ev = eval_metrics(dir, {1, 5}, method);
    const std::string what = eval::rerank_method_name(method);
    EXPECT_EQ(ev.at("users"), 3) << what;
    EXPECT_EQ(ev.at("hr@1"), 0.0) << what;
    EXPECT_EQ(ev.at("hr@5"), 1.0) << what;
    EXPECT_NEAR(ev.at("ndcg@5"), ndcg5, 1e-9) << what;
    EXPECT_NEAR(ev.at("mrr@5"), 0.2, 1e-9) << what;
  }
}
