// End to end with the built `divrec` binary: `divrec eval --dump-lists` on a small dataset and
// checkpoint, `divrec export` with the same settings, then `divrec recommend --input` replaying
// every dumped history must reproduce each user's list: the same items in the same order with the
// same reasons and bit-identical relevance scores (both encode with model::encode_history and
// score with model::score_top_n). Covers none / mmr + constraints / dpp + jaccard / xquad,
// next-item and masked-item models, several eval batch sizes (a user's scores must not depend on
// its batch), and --score-precision bf16 on both sides.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/fs.h"
#include "serving/fixtures.h"

using namespace divrec;
using nlohmann::json;

namespace {

#ifndef DIVREC_BIN
#error "DIVREC_BIN (the divrec executable) must be defined by the build"
#endif

// Runs the divrec binary with args; output goes to log. Returns the exit status.
int divrec(const std::string& args, const std::string& log) {
  std::string cmd = std::string(DIVREC_BIN) + " " + args + " > " + log + " 2>&1";
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

struct Case {
  std::string name;
  std::string objective;
  std::string settings;            // options both eval and export/recommend understand
  int batch_size;                  // eval --batch-size
  std::string precision = "fp32";  // --score-precision of eval and recommend
  // ANN cases: export's build options, and the search options of both eval and recommend (eval
  // also gets --ann-index, the file export wrote); "" = exact retrieval.
  std::string ann_build;
  std::string ann_search;
  // Eval-only --fairness options: eval runs first and export stores its policy
  // (--fairness-policy report.json); "" = none.
  std::string fairness;
};

// The index file `divrec export` wrote beside `artifact` ("" when none).
std::string index_beside(const std::string& artifact) {
  namespace fs = std::filesystem;
  const std::string prefix = fs::path(artifact).filename().string() + ".ann-";
  for (const auto& e : fs::directory_iterator(fs::path(artifact).parent_path())) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path().string();
  }
  return "";
}

void run_case(const Case& c) {
  SCOPED_TRACE(c.name);
  auto f = divrec::testing::make_serving_fixture("e2e_" + c.name, c.objective, 31);
  const std::string d = f.dir;
  const bool ann = !c.ann_search.empty();
  const bool fair = !c.fairness.empty();
  ASSERT_FALSE(ann && fair) << "an ANN case exports first, a fairness case evaluates first";
  auto do_export = [&] {
    ASSERT_EQ(divrec("export --checkpoint " + f.checkpoint + " --data " + f.data_dir +
                         " --output " + d + "/served.h5 --k 10 --candidates 40 " + c.settings +
                         (ann ? " --retrieval ann " + c.ann_build : " --retrieval exact") +
                         (fair ? " --fairness-policy " + d + "/report.json" : ""),
                     d + "/export.log"),
              0)
        << core::read_file(d + "/export.log");
  };
  if (!fair) do_export();
  const std::string index = index_beside(d + "/served.h5");
  ASSERT_EQ(index.empty(), !ann) << "index file: '" << index << "'";
  const std::string retrieval =
      ann ? " --retrieval ann " + c.ann_search : std::string(" --retrieval exact");
  // eval: lists of 10 (the largest K), candidates 40.
  ASSERT_EQ(divrec("eval --data " + f.data_dir + " --checkpoint " + f.checkpoint + " --report " +
                       d + "/report.json --dump-lists " + d +
                       "/lists.jsonl --k 5,10 "
                       "--candidates 40 --comm local --threads 2 --batch-size " +
                       std::to_string(c.batch_size) + " --score-precision " + c.precision + " " +
                       c.settings + retrieval + (ann ? " --ann-index " + index : "") + " " +
                       c.fairness,
                   d + "/eval.log"),
            0)
      << core::read_file(d + "/eval.log");
  const json report = json::parse(core::read_file(d + "/report.json"));
  if (fair) {
    // Non-zero multipliers, so equal lists below mean serving applied them.
    ASSERT_GT(report["fairness"]["chosen_pass"].get<int>(), 0) << report["fairness"].dump();
    do_export();
  }
  EXPECT_EQ(report["score_precision"], c.precision);
  EXPECT_EQ(report["retrieval"]["used"], ann ? "ann" : "exact");
  if (ann) {
    EXPECT_EQ(report["retrieval"]["index"], index);
    EXPECT_EQ(report["retrieval"]["recall_at"], 40);
    // Deliberately weak indexes: some candidates differ from the exact ones (recall < 1), so
    // equal lists below come from the same index and parameters, not from exact == exact.
    EXPECT_GT(report["retrieval"]["recall"].get<double>(), 0.2);
    EXPECT_LT(report["retrieval"]["recall"].get<double>(), 1.0);
    std::cout << "[ e2e      ] " << c.name << ": ANN recall@40 vs exact "
              << report["retrieval"]["recall"] << std::endl;
  }
  auto lists = read_lines(d + "/lists.jsonl");
  ASSERT_GT(lists.size(), 20u);
  std::string requests;
  for (const auto& l : lists) requests += json{{"history", l["history"]}}.dump() + "\n";
  core::write_file_atomic(d + "/requests.jsonl", requests);
  ASSERT_EQ(divrec("recommend --model " + d + "/served.h5 --input " + d + "/requests.jsonl " +
                       "--output " + d + "/out.jsonl --threads 3 --score-precision " + c.precision +
                       retrieval,
                   d + "/recommend.log"),
            0)
      << core::read_file(d + "/recommend.log");
  auto out = read_lines(d + "/out.jsonl");
  ASSERT_EQ(out.size(), lists.size());
  // Items, reasons and scores must agree exactly (scores as JSON doubles of the same floats).
  int mismatched = 0, bit_equal = 0;
  double worst = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    const auto& want = lists[i];
    const auto& got = out[i]["items"];
    std::vector<std::string> items, reasons;
    std::vector<double> scores;
    for (const auto& it : got) {
      items.push_back(it["item"]);
      scores.push_back(it["score"]);
      reasons.push_back(it["reason"]);
    }
    const auto want_scores = want["scores"].get<std::vector<double>>();
    bool same = items == want["items"].get<std::vector<std::string>>() &&
                reasons == want["reasons"].get<std::vector<std::string>>() &&
                scores.size() == want_scores.size();
    for (size_t j = 0; same && j < scores.size(); ++j) {
      double rel = std::abs(scores[j] - want_scores[j]) / std::max(1.0, std::abs(want_scores[j]));
      worst = std::max(worst, rel);
      same = want_scores[j] == scores[j];
    }
    bit_equal += same;
    if (!same && ++mismatched <= 3) {
      ADD_FAILURE() << "user " << want["user"] << ": eval " << want.dump() << "\nserving "
                    << out[i].dump();
    }
    EXPECT_TRUE(out[i]["unknown_items"].empty());
    EXPECT_TRUE(out[i]["fallback"].is_null());
  }
  EXPECT_EQ(mismatched, 0) << "of " << lists.size() << " users";
  std::cout << "[ e2e      ] " << c.name << ": " << lists.size() << " users, " << mismatched
            << " different lists, " << bit_equal
            << " with bit-equal scores; largest relative score difference " << worst << std::endl;
  ::testing::Test::RecordProperty("bit_equal_users", bit_equal);
}

TEST(ServingMatchesEval, NoRerankSmallBatches) {
  run_case({"none", "next-item", "--rerank none", 8, "fp32", "", "", ""});
}

TEST(ServingMatchesEval, MmrWithConstraints) {
  run_case({"mmr", "next-item", "--rerank mmr --lambda 0.4 --max-per-category 3 --min-categories 4",
            256, "fp32", "", "", ""});
}

TEST(ServingMatchesEval, DppJaccardSmallBatches) {
  run_case({"dpp", "next-item", "--rerank dpp --theta 2 --similarity jaccard", 8, "fp32", "", "", ""});
}

TEST(ServingMatchesEval, Bf16ScoresOnBothSides) {
  run_case({"bf16", "next-item", "--rerank mmr --lambda 0.5", 8, "bf16", "", "", ""});
}

// ANN retrieval: `divrec eval --retrieval ann --ann-index` (batches of 8 on 2 threads) and
// `divrec recommend --retrieval ann` (3 threads) with the exported index and the same search
// parameters give the same lists, bit for bit. A small beam and candidate count make the ANN
// candidates differ from the exact ones for some users, so this is not exact == exact again.
TEST(ServingMatchesEval, AnnHnswSameIndexSameLists) {
  run_case({"ann_hnsw", "next-item", "--rerank dpp --theta 2", 8, "fp32",
            "--ann-kind hnsw --hnsw-m 4 --ef-construction 8", "--ef-search 4 --ann-candidates 12", ""});
}

TEST(ServingMatchesEval, AnnIvfBf16) {
  run_case({"ann_ivf", "next-item", "--rerank mmr --lambda 0.5", 8, "bf16",
            "--ann-kind ivf --ivf-nlist 8", "--nprobe 2 --ann-candidates 40", ""});
}

// --fairness dual: export stores the fitted multipliers and groups; recommend applies them and
// returns eval's lists exactly.
TEST(ServingMatchesEval, FairExposureMmrCategories) {
  run_case({"fair_mmr", "next-item", "--rerank mmr --lambda 0.6 --min-categories 3", 16, "fp32", "",
            "", "--fairness dual --exposure-groups category --exposure-tolerance 0.02"});
}

TEST(ServingMatchesEval, FairExposureDppPopularityLogWeights) {
  run_case({"fair_dpp", "next-item", "--rerank dpp --theta 1.5", 8, "fp32", "", "",
            "--fairness dual --exposure-groups popularity-bins:3 --exposure-target uniform "
            "--exposure-weights log --exposure-tolerance 0.02"});
}

TEST(ServingMatchesEval, XquadMaskedItemModel) {
  run_case({"xquad_masked", "masked-item", "--rerank xquad --lambda 0.6 --min-distinct 10", 64,
            "fp32", "", "", ""});
}

}  // namespace
