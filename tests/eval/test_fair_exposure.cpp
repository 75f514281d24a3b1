// `divrec eval --fairness dual` on a synthetic dataset with a random model: the goal is met and
// the reported shares agree with group shares recounted here from the dumped lists and the item
// table (an independent count); multipliers, metrics and lists are the same on 1, 2 and 3 fake
// ranks; a floor (--min-group-share) holds; bad options fail naming the option.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/fake_comm.h"
#include "core/check.h"
#include "core/fs.h"
#include "data_shards/reader.h"
#include "eval/eval_config.h"
#include "eval/evaluator_fixture.h"
#include "eval/run_eval.h"

using namespace divrec;

namespace {

class FairExposureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(divrec::testing::eval_scratch_dir("fair"));
    divrec::testing::make_eval_fixture(*dir_, /*users=*/240, /*items=*/150, /*seed=*/5);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static eval::EvalConfig config(const std::string& name) {
    eval::EvalConfig c;
    c.data_dir = *dir_ + "/data";
    c.checkpoint = *dir_ + "/model.pt";
    c.ks = {5, 10};
    c.candidates = 60;
    c.batch_size = 16;
    c.threads = 2;
    c.plot = false;
    c.report = *dir_ + "/" + name + ".json";
    c.dump_lists = *dir_ + "/" + name + ".jsonl";
    c.fairness.mode = "dual";
    c.fairness.max_passes = 40;
    return c;
  }
  static std::string* dir_;
};
std::string* FairExposureTest::dir_ = nullptr;

// Category shares of the top 10 of every dumped list, and the catalog shares, from the files.
std::pair<std::vector<double>, std::vector<double>> recount(const std::string& data,
                                                            const std::string& lists) {
  auto items = data::read_item_table(data);
  std::unordered_map<std::string, int32_t> cat;
  std::vector<double> catalog(static_cast<size_t>(items.num_categories), 0.0), share = catalog;
  double n_catalog = 0, n_share = 0;
  for (int64_t i = 0; i < items.num_items; ++i) {
    cat[items.raw_ids[i]] = items.category[i];
    if (items.category[i] >= 0) catalog[items.category[i]] += 1, n_catalog += 1;
  }
  std::ifstream in(lists);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    for (size_t p = 0; p < std::min<size_t>(10, j["items"].size()); ++p) {
      const int32_t c = cat.at(j["items"][p].get<std::string>());
      if (c >= 0) share[c] += 1, n_share += 1;
    }
  }
  for (auto& v : catalog) v /= n_catalog;
  for (auto& v : share) v /= n_share;
  return {share, catalog};
}

double tvd(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return 0.5 * s;
}

}  // namespace

TEST_F(FairExposureTest, MeetsTheToleranceAndAgreesWithAnIndependentRecount) {
  core::LocalCommunicator local;
  auto plain = config("plain");
  plain.fairness.mode = "none";
  const auto p = eval::run_eval(plain, local);
  const double before = p.settings[0].metrics.at("category_exposure_tvd@10");
  ASSERT_GT(before, 0.05);

  auto c = config("cat");
  c.fairness.tolerance = 0.5 * before;
  const auto r = eval::run_eval(c, local);
  const auto& f = r.fairness;
  EXPECT_TRUE(f["converged"].get<bool>());
  EXPECT_GT(f["passes"].get<int>(), 1);
  const double after = f["exposure_tvd_after"].get<double>();
  EXPECT_LE(after, c.fairness.tolerance);
  // Pass 0 is the plain ranking: its TVD is the plain evaluation's.
  EXPECT_EQ(f["exposure_tvd_before"].get<double>(), before);
  EXPECT_EQ(f["metrics_before"]["ndcg@10"].get<double>(), p.settings[0].metrics.at("ndcg@10"));
  // Category groups, catalog target, uniform weights: the TVD is category_exposure_tvd@10, and a
  // recount from the dumped lists gives the same number.
  EXPECT_DOUBLE_EQ(r.settings[0].metrics.at("category_exposure_tvd@10"), after);
  auto [share, catalog] = recount(c.data_dir, c.dump_lists);
  EXPECT_NEAR(tvd(share, catalog), after, 1e-12);
  auto [plain_share, catalog2] = recount(c.data_dir, plain.dump_lists);
  EXPECT_NEAR(tvd(plain_share, catalog2), before, 1e-12);
}

TEST_F(FairExposureTest, FloorOnTheTailHolds) {
  core::LocalCommunicator local;
  auto c = config("floor");
  c.fairness.groups = "popularity-bins";
  c.fairness.tolerance = -1;  // no TVD goal: the floor only
  c.fairness.min_group_share = 0.45;
  c.fairness.weights = eval::ExposureWeights::kLog;
  c.rerank.method = eval::RerankMethod::kDpp;
  const auto r = eval::run_eval(c, local);
  const auto& f = r.fairness;
  ASSERT_TRUE(f["converged"].get<bool>()) << f.dump(1);
  EXPECT_GE(f["share_after"]["tail"].get<double>(), 0.45);
  EXPECT_GE(f["share_after"]["head"].get<double>(), 0.45);
  for (double mu : f["multiplier_vector"]) EXPECT_GE(mu, 0.0);  // floors: mu >= 0
}

TEST_F(FairExposureTest, SameMultipliersListsAndMetricsOn1And2And3Ranks) {
  std::vector<eval::EvalResult> results;
  std::vector<std::string> lists;
  for (int world : {1, 2, 3}) {
    auto c = config("ranks" + std::to_string(world));
    c.rerank.method = eval::RerankMethod::kMmr;
    c.rerank.lambda = 0.6;
    c.constraints.min_categories = 3;
    c.fairness.groups = "popularity-bins:3";
    c.fairness.target = "uniform";
    c.fairness.tolerance = 0.02;
    c.fairness.max_passes = 8;
    c.threads = world;  // a different thread split as well
    std::mutex m;
    eval::EvalResult mine;
    divrec::testing::run_ranks(world, [&](divrec::testing::FakeCommunicator& comm) {
      auto r = eval::run_eval(c, comm);
      std::lock_guard<std::mutex> lock(m);
      if (comm.rank() == 0) mine = r;
    });
    results.push_back(mine);
    lists.push_back(core::read_file(c.dump_lists));
  }
  ASSERT_GT(results[0].fairness["passes"].get<int>(), 1);
  for (size_t w = 1; w < results.size(); ++w) {
    const auto what = std::to_string(w + 1) + " ranks";
    EXPECT_EQ(results[w].fairness["multiplier_vector"], results[0].fairness["multiplier_vector"])
        << what;
    EXPECT_EQ(results[w].fairness["log"], results[0].fairness["log"]) << what;
    divrec::testing::expect_same_metrics(results[w].settings[0].metrics,
                                         results[0].settings[0].metrics, what);
    EXPECT_TRUE(lists[w] == lists[0]) << "lists differ on " << what;
  }
}

TEST_F(FairExposureTest, ToleranceSweepWritesOneRowPerMethodAndTolerance) {
  core::LocalCommunicator local;
  auto c = config("sweep");
  c.sweep = "tolerance=1,0.1";
  c.sweep_methods = {"none", "dpp"};
  c.fairness.target = "merit";
  c.dump_lists.clear();
  const auto r = eval::run_eval(c, local);
  ASSERT_EQ(r.settings.size(), 4u);
  EXPECT_EQ(r.settings[0].metrics.at("fairness_passes"), 1);  // tolerance 1: the plain lists
  const std::string csv = core::read_file(eval::report_stem(c.report) + ".csv");
  EXPECT_NE(csv.find("exposure_tvd@10"), std::string::npos);
  EXPECT_NE(csv.find("dpp,tolerance,0.1"), std::string::npos) << csv.substr(0, 300);
}

TEST_F(FairExposureTest, BadOptionsNameTheOption) {
  core::LocalCommunicator local;
  auto c = config("bad");
  c.fairness.groups = "popularity-bins:x";
  EXPECT_THROW(eval::run_eval(c, local), Error);
  c = config("bad");
  c.fairness.min_group_share = 1.5;
  EXPECT_THROW(eval::run_eval(c, local), Error);
  c = config("bad");
  c.sweep = "lambda=0,1";
  EXPECT_THROW(eval::run_eval(c, local), Error);
}
