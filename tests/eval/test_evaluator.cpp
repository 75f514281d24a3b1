// The evaluation pass on a synthetic dataset with a random model saved as a checkpoint: the same
// metrics and the same lists on 1, 2 and 3 (fake) ranks and with any number of threads; --rerank
// none agrees with trainer::evaluate_ranking (an independent implementation); hard constraints
// hold in the dumped lists; the report, sweep CSV and plot are written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/fake_comm.h"
#include "core/check.h"
#include "core/fs.h"
#include "eval/eval_config.h"
#include "eval/evaluator.h"
#include "eval/evaluator_fixture.h"
#include "eval/model_loader.h"
#include "eval/run_eval.h"
#include "eval/sweep.h"
#include "eval/user_blocks.h"
#include "trainer/validation.h"

using namespace divrec;
using divrec::testing::expect_same_metrics;

namespace {

std::vector<eval::RerankSetting> all_methods() {
  std::vector<eval::RerankSetting> out;
  for (auto m : {eval::RerankMethod::kNone, eval::RerankMethod::kMmr, eval::RerankMethod::kDpp,
                 eval::RerankMethod::kXquad, eval::RerankMethod::kCalibrated}) {
    eval::RerankSetting s;
    s.rerank.method = m;
    s.rerank.lambda = 0.4;
    s.rerank.theta = 1.5;
    out.push_back(s);
  }
  return out;
}

constexpr int64_t kBatch = 16;

struct WorldResult {
  eval::EvalResult result;
  std::vector<eval::DumpLine> lines;  // all ranks', sorted by user
};

// Runs the pass on `world` fake ranks, each reading only its own users and loading its own model.
WorldResult run_world(const std::string& dir, int world, int threads,
                      const eval::Constraints& constraints,
                      const std::string& checkpoint = "model.pt") {
  WorldResult out;
  std::mutex m;
  divrec::testing::run_ranks(world, [&](divrec::testing::FakeCommunicator& comm) {
    auto manifest = data::read_manifest(dir + "/data");
    auto items = data::read_item_table(dir + "/data");
    auto users = eval::read_user_blocks(dir + "/data", comm.rank(), comm.world(), kBatch);
    auto loaded = eval::load_model_for_eval(dir + "/" + checkpoint, items);
    torch::Tensor vec;
    {
      torch::NoGradGuard ng;
      vec = loaded.model->item_vectors().contiguous();
    }
    auto cosine = eval::ItemSimilarity::cosine(vec.data_ptr<float>(), vec.size(0), vec.size(1));
    eval::EvalInputs in;
    in.model = loaded.model;
    in.causal = loaded.causal;
    in.items = &items;
    in.rerank_similarity = &cosine;
    in.ild_similarity = &cosine;
    in.users = &users;
    in.user_raw_ids = &manifest.user_raw_ids;
    eval::EvalOptions opt;
    opt.ks = {5, 10, 20};
    opt.candidates = 60;
    opt.settings = all_methods();
    opt.constraints = constraints;
    opt.batch_size = kBatch;  // several blocks per rank
    opt.threads = threads;
    opt.collect_lists = true;
    opt.progress = false;
    auto pass = eval::evaluate(in, opt, comm);
    std::lock_guard<std::mutex> lock(m);
    if (comm.rank() == 0) out.result = pass.result;
    for (auto& l : pass.lines) out.lines.push_back(std::move(l));
  });
  std::sort(out.lines.begin(), out.lines.end(),
            [](const eval::DumpLine& a, const eval::DumpLine& b) { return a.user < b.user; });
  return out;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(divrec::testing::eval_scratch_dir("evaluator"));
    config_ = new model::ModelConfig(divrec::testing::make_eval_fixture(*dir_));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete config_;
  }
  static std::string* dir_;
  static model::ModelConfig* config_;
};
std::string* EvaluatorTest::dir_ = nullptr;
model::ModelConfig* EvaluatorTest::config_ = nullptr;

eval::EvalConfig base_config(const std::string& dir, const std::string& name) {
  eval::EvalConfig c;
  c.data_dir = dir + "/data";
  c.checkpoint = dir + "/model.pt";
  c.ks = {5, 10, 20};
  c.candidates = 60;
  c.report = dir + "/" + name + ".json";
  c.batch_size = 32;
  c.threads = 2;
  return c;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_F(EvaluatorTest, SameMetricsAndListsOnOneTwoThreeRanksAndAnyThreads) {
  eval::Constraints c;
  c.min_categories = 3;
  auto one = run_world(*dir_, 1, 1, c);
  auto all = data::read_all_users(*dir_ + "/data");
  const auto expected_users =
      static_cast<int64_t>(eval::evaluable_users(all, data::Split::kTest).size());
  ASSERT_GT(expected_users, 100);
  EXPECT_EQ(one.result.users, expected_users);
  EXPECT_EQ(static_cast<int64_t>(one.lines.size()), expected_users);
  ASSERT_EQ(one.result.settings.size(), 5u);
  for (const char* k : {"ndcg@10", "hr@10", "ild@10", "category_coverage@10", "catalog_coverage@10",
                        "gini@10", "users", "infeasible_users"}) {
    EXPECT_TRUE(one.result.settings[0].metrics.count(k)) << k;
  }
  EXPECT_EQ(one.result.settings[0].metrics.at("users"), static_cast<double>(expected_users));

  for (auto [world, threads] : {std::pair{2, 3}, std::pair{3, 2}, std::pair{1, 4}}) {
    auto other = run_world(*dir_, world, threads, c);
    const std::string what =
        "world " + std::to_string(world) + ", threads " + std::to_string(threads);
    EXPECT_EQ(other.result.ranks, world);
    EXPECT_EQ(other.result.users, one.result.users) << what;
    ASSERT_EQ(other.result.settings.size(), one.result.settings.size());
    for (size_t s = 0; s < one.result.settings.size(); ++s) {
      expect_same_metrics(one.result.settings[s].metrics, other.result.settings[s].metrics,
                          what + ", " + one.result.settings[s].setting.describe());
    }
    ASSERT_EQ(other.lines.size(), one.lines.size());
    for (size_t i = 0; i < one.lines.size(); ++i) {
      EXPECT_EQ(other.lines[i].user, one.lines[i].user);
      EXPECT_EQ(other.lines[i].json, one.lines[i].json) << what;
    }
  }
}

TEST_F(EvaluatorTest, UserBlocksPartitionTheUsers) {
  auto all = data::read_all_users(*dir_ + "/data");
  for (int world : {1, 2, 3}) {
    std::vector<int64_t> ids;
    for (int r = 0; r < world; ++r) {
      auto mine = eval::read_user_blocks(*dir_ + "/data", r, world, 7);
      for (int64_t u = 0; u < mine.num_users(); ++u) {
        const int64_t id = mine.user_ids[u];
        EXPECT_EQ((id / 7) % world, r);
        if (u > 0) {
          EXPECT_LT(mine.user_ids[u - 1], id);
        }
        // Same events as the full read.
        const int64_t g = id;  // read_all_users is indexed by dense id
        ASSERT_EQ(all.user_ids[g], id);
        ASSERT_EQ(mine.length(u), all.length(g));
        EXPECT_TRUE(std::equal(mine.seq(u), mine.seq(u) + mine.length(u), all.seq(g)));
        EXPECT_EQ(mine.test_start[u], all.test_start[g]);
        ids.push_back(id);
      }
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, all.user_ids) << "world " << world;
  }
}

TEST_F(EvaluatorTest, MaskedItemModelIsBatchInvariantToo) {
  auto items = data::read_item_table(*dir_ + "/data");
  EXPECT_FALSE(eval::load_model_for_eval(*dir_ + "/masked.pt", items).causal);
  eval::Constraints none;
  auto one = run_world(*dir_, 1, 1, none, "masked.pt");
  auto three = run_world(*dir_, 3, 2, none, "masked.pt");
  auto next_item = run_world(*dir_, 1, 1, none, "model.pt");
  ASSERT_EQ(one.lines.size(), three.lines.size());
  for (size_t i = 0; i < one.lines.size(); ++i) EXPECT_EQ(one.lines[i].json, three.lines[i].json);
  for (size_t s = 0; s < one.result.settings.size(); ++s) {
    expect_same_metrics(one.result.settings[s].metrics, three.result.settings[s].metrics,
                        "masked-item, " + one.result.settings[s].setting.describe());
  }
  // The [MASK] read-out is a different user vector from the last-position one.
  EXPECT_NE(one.lines[0].json, next_item.lines[0].json);
}

TEST_F(EvaluatorTest, NoRerankMatchesTrainerRankingEvaluation) {
  auto c = base_config(*dir_, "none");
  c.ks = {10, 20};
  auto r = eval::run_eval(c, *std::make_shared<core::LocalCommunicator>());
  auto items = data::read_item_table(c.data_dir);
  auto seqs = data::read_all_users(c.data_dir);
  auto loaded = eval::load_model_for_eval(c.checkpoint, items);
  trainer::RankingConfig rc;
  rc.ks = {10, 20};
  rc.max_len = config_->max_len;
  rc.batch_size = 50;
  rc.sampled_99 = false;
  std::vector<int64_t> users(seqs.num_users());
  for (int64_t u = 0; u < seqs.num_users(); ++u) users[u] = u;
  core::LocalCommunicator local;
  auto ref = trainer::evaluate_ranking(loaded.model, seqs, users, data::Split::kTest, rc, local);
  const auto& m = r.settings.at(0).metrics;
  EXPECT_EQ(m.at("users"), ref.at("users"));
  for (const char* k : {"ndcg@10", "hr@10", "ndcg@20", "hr@20"}) {
    EXPECT_NEAR(m.at(k), ref.at(k), 1e-9) << k;
  }
  EXPECT_GT(ref.at("hr@20"), 0.0);  // some hits, so the comparison is not 0 == 0
}

TEST_F(EvaluatorTest, MinCategoriesHoldsInEveryDumpedList) {
  auto items = data::read_item_table(*dir_ + "/data");
  auto manifest = data::read_manifest(*dir_ + "/data");
  std::unordered_map<std::string, int32_t> item_of, user_of;
  for (int32_t i = 0; i < items.num_items; ++i) item_of[items.raw_ids[i]] = i;
  for (size_t u = 0; u < manifest.user_raw_ids.size(); ++u) {
    user_of[manifest.user_raw_ids[u]] = static_cast<int32_t>(u);
  }
  auto seqs = data::read_all_users(*dir_ + "/data");
  for (int m : {2, 5}) {
    auto c = base_config(*dir_, "mincat" + std::to_string(m));
    c.ks = {5};
    c.constraints.min_categories = m;
    c.dump_lists = *dir_ + "/lists_mincat" + std::to_string(m) + ".jsonl";
    auto r = eval::run_eval(c, *std::make_shared<core::LocalCommunicator>());
    auto lines = read_jsonl(c.dump_lists);
    ASSERT_EQ(static_cast<int64_t>(lines.size()), r.users);
    int64_t violating = 0, constraint_reasons = 0, prev_user = -1;
    for (const auto& j : lines) {
      const int32_t u = user_of.at(j.at("user").get<std::string>());
      EXPECT_GT(u, prev_user) << "lists must be sorted by user";
      prev_user = u;
      // The dumped history is the user's whole prefix before the test target.
      auto hist = j.at("history").get<std::vector<std::string>>();
      ASSERT_EQ(static_cast<int64_t>(hist.size()), seqs.history_end(u, data::Split::kTest));
      for (size_t i = 0; i < hist.size(); ++i) EXPECT_EQ(item_of.at(hist[i]), seqs.seq(u)[i]);
      auto listed = j.at("items").get<std::vector<std::string>>();
      ASSERT_EQ(listed.size(), 5u);
      EXPECT_EQ(j.at("scores").size(), 5u);
      std::set<int32_t> cats;
      for (const auto& raw : listed) {
        int32_t c = items.category[item_of.at(raw)];
        if (c >= 0) cats.insert(c);
        EXPECT_EQ(std::count(hist.begin(), hist.end(), raw), 0) << "history item listed";
      }
      violating += static_cast<int64_t>(cats.size()) < m;
      for (const auto& why : j.at("reasons")) constraint_reasons += why == "min_categories";
    }
    EXPECT_EQ(violating, r.settings[0].infeasible_users);
    EXPECT_EQ(violating, 0) << "8 categories in 60 candidates: every user is feasible";
    if (m == 5) {
      EXPECT_GT(constraint_reasons, 0) << "relevance alone rarely spans 5 categories";
    }
    EXPECT_GE(r.settings[0].metrics.at("categories@5"), m);
  }
}

TEST_F(EvaluatorTest, ReportSweepCsvAndPlot) {
  auto none =
      eval::run_eval(base_config(*dir_, "plain"), *std::make_shared<core::LocalCommunicator>());
  auto c = base_config(*dir_, "sweep");
  c.rerank.method = eval::RerankMethod::kMmr;
  c.sweep = "lambda=0,0.5,...,1";
  c.sweep_methods = {"mmr", "dpp", "xquad"};
  auto r = eval::run_eval(c, *std::make_shared<core::LocalCommunicator>());
  ASSERT_EQ(r.settings.size(), 9u);
  // MMR's lambda weighs relevance: lambda = 1 is relevance order, the same lists as no
  // re-ranking; xQuAD's weighs diversity: lambda = 0 is relevance order.
  expect_same_metrics(r.settings[2].metrics, none.settings[0].metrics, "mmr lambda=1 vs none");
  expect_same_metrics(r.settings[6].metrics, none.settings[0].metrics, "xquad lambda=0 vs none");
  // More diversity weight, more diverse lists (ILD over the similarity MMR diversifies).
  EXPECT_GT(r.settings[0].metrics.at("ild@10"), r.settings[1].metrics.at("ild@10"));
  EXPECT_GT(r.settings[1].metrics.at("ild@10"), r.settings[2].metrics.at("ild@10"));
  EXPECT_DOUBLE_EQ(r.settings[4].setting.rerank.theta, 0.5);  // dpp: (1 - 0.5) / (2 * 0.5)

  auto j = nlohmann::json::parse(core::read_file(c.report));
  for (const char* k : {"ndcg@10", "hr@10", "ild@10", "category_coverage@10", "catalog_coverage@10",
                        "gini@10", "ndcg@5", "ndcg@20"}) {
    EXPECT_TRUE(j.at("metrics").contains(k)) << k;
  }
  EXPECT_EQ(j.at("users").get<int64_t>(), r.users);
  EXPECT_EQ(j.at("ranks").get<int>(), 1);
  EXPECT_EQ(j.at("rerank").at("method"), "mmr");
  EXPECT_EQ(j.at("rerank").at("lambda").get<double>(), 0.0);
  EXPECT_EQ(j.at("split"), "test");
  EXPECT_EQ(j.at("candidates").get<int>(), 60);
  EXPECT_EQ(j.at("k").get<std::vector<int>>(), (std::vector<int>{5, 10, 20}));
  EXPECT_TRUE(j.at("constraints").at("max_similarity").is_null());
  ASSERT_EQ(j.at("sweep").size(), 9u);
  EXPECT_EQ(j.at("sweep")[4].at("method"), "dpp");

  std::ifstream csv(*dir_ + "/sweep.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("method,param,value,setting,", 0), 0u) << header;
  EXPECT_NE(header.find(",ndcg@10,"), std::string::npos);
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 9);
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0 &&
      !eval::find_plot_script().empty()) {
    EXPECT_TRUE(std::filesystem::exists(*dir_ + "/sweep.png"));
    EXPECT_GT(std::filesystem::file_size(*dir_ + "/sweep.png"), 10000u);
  }
}

TEST_F(EvaluatorTest, CheckpointOfAnotherCatalogIsRejected) {
  auto items = data::read_item_table(*dir_ + "/data");
  items.num_items += 1;
  try {
    eval::load_model_for_eval(*dir_ + "/model.pt", items);
    FAIL() << "expected an error";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.pt"), std::string::npos) << e.what();
  }
}

TEST(Sweep, ValuesAndSettings) {
  auto v = eval::parse_sweep_values("0,0.1,...,1");
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v[3], 0.3);  // a + j*step rounded, not repeated addition
  EXPECT_EQ(v.back(), 1.0);
  EXPECT_EQ(eval::parse_sweep_values("1,2,...,7,10"),
            (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 10}));
  EXPECT_THROW(eval::parse_sweep_values("0,...,1"), divrec::Error);
  EXPECT_THROW(eval::parse_sweep_values("0,x"), divrec::Error);

  eval::RerankConfig base;
  base.method = eval::RerankMethod::kMmr;
  auto s = eval::make_settings("theta=0,1", {"dpp", "mmr"}, base);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1].rerank.method, eval::RerankMethod::kDpp);
  EXPECT_EQ(s[1].rerank.theta, 1.0);
  // Under a theta sweep the diversity weight is w = 1 / (1 + 2 theta); MMR's lambda weighs
  // relevance (1 - w), xQuAD's weighs diversity (w). Mapped values are kept to 12 digits.
  EXPECT_NEAR(s[3].rerank.lambda, 2.0 / 3.0, 1e-11);
  auto x = eval::make_settings("theta=1", {"xquad"}, base);
  EXPECT_NEAR(x[0].rerank.lambda, 1.0 / 3.0, 1e-11);
  EXPECT_EQ(eval::make_settings("lambda=0.4", {"dpp"}, base)[0].rerank.theta, 0.75);
  auto d = eval::make_settings("lambda=0,1", {"dpp"}, base);
  EXPECT_EQ(d[0].rerank.theta, 40.0);  // lambda 0 = relevance: the largest theta
  EXPECT_EQ(d[1].rerank.theta, 0.0);
  EXPECT_THROW(eval::make_settings("window=2", {"mmr"}, base), divrec::Error);
  EXPECT_THROW(eval::make_settings("gamma=1", {}, base), divrec::Error);
  EXPECT_THROW(eval::make_settings("lambda=0.5", {"mmr", "mmr"}, base), divrec::Error);
  EXPECT_EQ(eval::make_settings("", {}, base).size(), 1u);
}

TEST(Report, MetricTableHasMetricsAsRowsAndKAsColumns) {
  std::map<std::string, double> m = {
      {"ndcg@5", 0.1}, {"ndcg@10", 0.25}, {"hr@10", 0.5}, {"users", 42}};
  auto t = eval::format_metric_table(m, {10, 5});
  EXPECT_NE(t.find("@5"), std::string::npos);
  EXPECT_LT(t.find("@5"), t.find("@10"));
  EXPECT_NE(t.find("ndcg       0.1000     0.2500"), std::string::npos) << t;
  EXPECT_NE(t.find("42.0000"), std::string::npos) << t;
}

TEST(ConfigIo, RoundTripAndTrainConfigKeys) {
  model::ModelConfig c;
  c.num_items = 10;
  c.num_categories = 3;
  c.dim = 48;
  c.heads = 3;
  c.layers = 4;
  c.dropout = 0.123456789;
  c.use_content = false;
  auto back = model::from_ini(model::to_ini(c));
  EXPECT_EQ(model::to_ini(back), model::to_ini(c));
  EXPECT_EQ(back.dropout, c.dropout);
  // divrec train's saved config (other keys ignored, comments skipped).
  auto t = model::from_ini(
      "# divrec train ...\nbatch-size = 64\ndim = 16\nmax-len = 7\n"
      "use-category = false\n[model]\nheads = 4\n");
  EXPECT_EQ(t.dim, 16);
  EXPECT_EQ(t.max_len, 7);
  EXPECT_EQ(t.heads, 4);
  EXPECT_FALSE(t.use_category);
  EXPECT_THROW(model::from_ini("dim = sixteen\n"), divrec::Error);
}
