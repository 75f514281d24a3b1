// `divrec encode-items` with the real all-MiniLM-L6-v2 (label data): the exporter's TorchScript
// module, divrec's WordPiece and mean pooling on 2 fake ranks against sentence-transformers'
// own encode() of the same Beauty titles. Skips without .venv-text (tools/text/setup-venv.sh)
// or ../shared/data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../common/fake_comm.h"
#include "../common/run_command.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/test_util.h"
#include "data_shards/text_venv.h"
#include "train_fixture.h"
#include "trainer/encode_items.h"

namespace divrec {
namespace {

namespace fs = std::filesystem;

TEST(EncodeMiniLm, BeautyTitlesMatchSentenceTransformers) {
  const std::string py = testing::text_venv_python();
  if (py.empty()) GTEST_SKIP() << ".venv-text not found (tools/text/setup-venv.sh)";
  const std::string shared = testing::shared_data_dir();
  const std::string titles = shared + "/amazon-beauty/Beauty_item_titles.tsv";
  if (shared.empty() || !fs::exists(titles)) GTEST_SKIP() << titles << " not found";
  const auto dir =
      (fs::temp_directory_path() / ("divrec_encode_minilm_" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);

  // A 300-item catalog whose items take the first 300 Beauty titles (empty ones included).
  data::SyntheticOptions so;
  so.users = 600;
  so.items = 300;
  so.attributes = 0;
  so.content_dim = 0;
  so.mean_length = 6;
  so.cover_items = true;
  const std::string data_dir = dir + "/data";
  testing::write_synthetic_dataset(so, data_dir);
  const auto ids = data::read_item_table(data_dir).raw_ids;
  const auto texts = testing::tsv_column(titles, 2);
  ASSERT_GE(texts.size(), ids.size());
  {
    std::ofstream out(dir + "/titles.tsv");
    out << "item_id\ttitle\n";
    for (size_t i = 0; i < ids.size(); ++i) out << ids[i] << "\t" << texts[i] << "\n";
  }

  auto [rc, log] = testing::run_command(py + " tools/text/export_text_encoder.py --output " + dir +
                                        "/minilm 2>&1");
  ASSERT_EQ(rc, 0) << log;
  std::tie(rc, log) =
      testing::run_command(py + " tools/reference/sentence_encoder_reference.py" + " --text " +
                           dir + "/titles.tsv --output " + dir + "/ref.tsv 2>&1");
  ASSERT_EQ(rc, 0) << log;

  trainer::EncodeItemsOptions o;
  o.data_dir = data_dir;
  o.encoder = dir + "/minilm/encoder.pt";
  o.text = dir + "/titles.tsv";
  o.tokenizer = dir + "/minilm/vocab.txt";
  o.name = "all-MiniLM-L6-v2";
  o.progress = false;
  testing::run_ranks(2, [&](core::Communicator& comm) { trainer::encode_items(o, comm); });

  const auto t = data::read_item_table(data_dir);
  ASSERT_EQ(t.content_dim, 384);
  std::map<std::string, int64_t> row;
  for (int64_t i = 0; i < t.num_items; ++i) row[t.raw_ids[static_cast<size_t>(i)]] = i;
  std::ifstream in(dir + "/ref.tsv");
  std::string line;
  int64_t compared = 0;
  double worst = 1;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id;
    std::getline(ls, id, '\t');
    const int64_t i = row.at(id);
    ASSERT_EQ(t.has_content[static_cast<size_t>(i)], 1) << id;
    double dot = 0, x;
    for (int64_t j = 0; ls >> x; ++j) dot += x * t.content[static_cast<size_t>(i * 384 + j)];
    worst = std::min(worst, dot);  // both sides are unit vectors
    ++compared;
  }
  std::printf("MiniLM via encode-items vs sentence-transformers: %lld titles, lowest cosine %.7f\n",
              static_cast<long long>(compared), worst);
  EXPECT_GT(compared, 250);
  EXPECT_GT(worst, 0.999) << "lowest cosine to sentence-transformers over " << compared
                          << " titles";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace divrec
