// `divrec encode-items` (trainer/encode_items.h) against an independent reference: a tiny
// TorchScript encoder made by Debian's python3-torch (tools/reference/tiny_text_encoder.py) that
// encodes each item alone, texts tokenized by python3-sentencepiece. Checks the SentencePiece and
// --token-ids paths, mean and cls pooling, truncation, 1 vs 3 fake ranks, the fallback for items
// without text, and the errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../common/fake_comm.h"
#include "../common/run_command.h"
#include "data_shards/convert/converters.h"
#include "data_shards/reader.h"
#include "data_shards/text_tokens.h"
#include "train_fixture.h"
#include "trainer/encode_items.h"
#include "trainer/model/text_encoder_identity.h"

namespace divrec {
namespace {

namespace fs = std::filesystem;
const char* kRef = "/usr/bin/python3 tools/reference/tiny_text_encoder.py";

class EncodeItems : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!data::text_tokenizer_available()) {
      GTEST_SKIP() << "no SentencePiece in AddressSanitizer builds (RTLD_DEEPBIND)";
    }
    if (testing::run_command("/usr/bin/python3 -c 'import torch, sentencepiece' 2>&1").first != 0) {
      GTEST_SKIP() << "Debian's python3-torch / python3-sentencepiece (the reference) are missing";
    }
    dir_ =
        (fs::temp_directory_path() / ("divrec_encode_items_" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    data::SyntheticOptions so;
    so.users = 120;
    so.items = 40;
    so.categories = 4;
    so.attributes = 0;
    so.content_dim = 0;
    so.mean_length = 8;
    so.cover_items = true;
    testing::write_synthetic_dataset(so, data_dir());
    raw_ids_ = data::read_item_table(data_dir()).raw_ids;

    // Titles for all but the last 4 items; item 2's is empty; item 5's is long (truncated).
    const char* words[] = {"matte", "lip",     "gloss",   "nail", "polish",  "serum", "hydrating",
                           "cream", "palette", "shimmer", "rose", "vitamin", "oil",   "mascara"};
    std::ostringstream t;
    t << "item_id\tasin\ttitle\n";
    std::vector<std::string> texts;
    for (size_t i = 0; i + 4 < raw_ids_.size(); ++i) {
      std::string s;
      const size_t n = i == 5 ? 60 : 1 + i % 6;
      for (size_t k = 0; k < n; ++k) s += std::string(k ? " " : "") + words[(i * 3 + k * 5) % 14];
      if (i == 2) s.clear();
      t << raw_ids_[i] << "\tB00" << i << "\t" << s << "\n";
      texts.push_back(s);
    }
    write(text_file(), t.str());
    write(dir_ + "/tiny.model",
          data::train_text_tokenizer(texts, data::TextTokenizerOptions{40, "unigram"}));
    ASSERT_EQ(0, testing::run_command(std::string(kRef) + " make --vocab 40 --hidden 12 --output " +
                                      encoder())
                     .first);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  static void write(const std::string& path, const std::string& s) { std::ofstream(path) << s; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string text_file() const { return dir_ + "/titles.tsv"; }
  std::string encoder() const { return dir_ + "/tiny.pt"; }

  // The reference's vectors by raw id (and the token-id file it used).
  std::map<std::string, std::vector<double>> reference(const std::string& pooling, int max_tokens) {
    const auto cmd = std::string(kRef) + " encode --encoder " + encoder() + " --spm " + dir_ +
                     "/tiny.model --text " + text_file() + " --pooling " + pooling +
                     " --max-tokens " + std::to_string(max_tokens) + " --output " + dir_ +
                     "/ref.tsv --ids-output " + dir_ + "/ids.tsv 2>&1";
    const auto [rc, out] = testing::run_command(cmd);
    EXPECT_EQ(rc, 0) << out;
    std::map<std::string, std::vector<double>> ref;
    std::ifstream in(dir_ + "/ref.tsv");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string id;
      std::getline(ls, id, '\t');
      double x;
      while (ls >> x) ref[id].push_back(x);
    }
    return ref;
  }

  trainer::EncodeItemsOptions options() const {
    trainer::EncodeItemsOptions o;
    o.data_dir = data_dir();
    o.encoder = encoder();
    o.text = text_file();
    o.tokenizer = dir_ + "/tiny.model";
    o.batch_size = 4;  // several batches of mixed lengths, so padding and masking matter
    o.progress = false;
    return o;
  }

  // The committed content against the reference: every item with a text gets its vector, every
  // other item the fallback.
  void expect_content(const std::map<std::string, std::vector<double>>& ref) {
    const auto t = data::read_item_table(data_dir());
    ASSERT_EQ(t.content_dim, 12);
    EXPECT_EQ(t.content_model, "tiny.pt");
    int64_t with = 0;
    for (int64_t i = 0; i < t.num_items; ++i) {
      const auto it = ref.find(t.raw_ids[static_cast<size_t>(i)]);
      if (it == ref.end()) {
        EXPECT_EQ(t.has_content[static_cast<size_t>(i)], 0) << "item " << i;
        continue;
      }
      ++with;
      EXPECT_EQ(t.has_content[static_cast<size_t>(i)], 1);
      for (int64_t j = 0; j < 12; ++j) {
        EXPECT_NEAR(t.content[static_cast<size_t>(i * 12 + j)], it->second[j], 2e-5)
            << "item " << t.raw_ids[static_cast<size_t>(i)] << " dim " << j;
      }
    }
    EXPECT_EQ(with, static_cast<int64_t>(raw_ids_.size()) - 5);  // 4 without a line, 1 empty
  }

  // zlib.crc32 of the file's bytes by Debian's python3 (an independent CRC-32).
  static uint32_t python_crc32(const std::string& path) {
    const auto [rc, out] = testing::run_command(
        "/usr/bin/python3 -c \"import sys, zlib; print(zlib.crc32(open(sys.argv[1], "
        "'rb').read()))\" " +
        path);
    EXPECT_EQ(rc, 0) << out;
    return static_cast<uint32_t>(std::stoul(out));
  }

  std::string dir_;
  std::vector<std::string> raw_ids_;
};

TEST_F(EncodeItems, SentencePieceMeanPoolingMatchesPythonReference) {
  const auto ref = reference("mean", 16);
  ASSERT_EQ(ref.size(), raw_ids_.size() - 5);
  auto o = options();
  o.max_tokens = 16;
  testing::run_ranks(1, [&](core::Communicator& comm) {
    const auto r = trainer::encode_items(o, comm);
    EXPECT_EQ(r.texts, static_cast<int64_t>(raw_ids_.size()) - 4);
    EXPECT_EQ(r.encoded, static_cast<int64_t>(raw_ids_.size()) - 5);
    EXPECT_EQ(r.empty, 1);
    EXPECT_EQ(r.hidden, 12);
    EXPECT_EQ(r.import.manifest.dataset_version, 1);
  });
  expect_content(ref);
  // The content records which encoder made it, for append-items --encoder to check.
  const auto t = data::read_item_table(data_dir());
  const auto id = model::TextEncoderIdentity::from_json(t.content_encoder, "items.h5");
  EXPECT_EQ(id.encoder_crc32, python_crc32(encoder()));
  ASSERT_TRUE(id.tokenizer_crc32.has_value());
  EXPECT_EQ(*id.tokenizer_crc32, python_crc32(dir_ + "/tiny.model"));
  EXPECT_EQ(id.pooling, "mean");
  EXPECT_EQ(id.max_tokens, 16);
  EXPECT_EQ(id.pca_dim, 0);
}

TEST_F(EncodeItems, TokenIdsClsPoolingOnThreeRanksMatchesReference) {
  const auto ref = reference("cls", 6);  // also writes ids.tsv: SentencePiece's ids, cut at 6
  auto o = options();
  o.text.clear();
  o.tokenizer.clear();
  o.token_ids = dir_ + "/ids.tsv";
  o.pooling = model::TextPooling::kCls;
  o.max_tokens = 6;
  testing::run_ranks(3, [&](core::Communicator& comm) { trainer::encode_items(o, comm); });
  expect_content(ref);
  const auto id = model::TextEncoderIdentity::from_json(
      data::read_item_table(data_dir()).content_encoder, "items.h5");
  EXPECT_FALSE(id.tokenizer_crc32.has_value());  // token ids: the tokenizer is not known
  EXPECT_EQ(id.pooling, "cls");
  EXPECT_EQ(id.max_tokens, 6);
  EXPECT_EQ(data::read_manifest(data_dir()).dataset_version, 1);  // committed once
}

TEST_F(EncodeItems, UnknownIdsAndBadTokenIdsNameTheLine) {
  write(dir_ + "/bad.tsv", "id\ttext\n" + raw_ids_[0] + "\tlip gloss\nno-such-item\tserum\n");
  auto o = options();
  o.text = dir_ + "/bad.tsv";
  testing::run_ranks(1, [&](core::Communicator& comm) {
    try {
      trainer::encode_items(o, comm);
      ADD_FAILURE() << "an unknown id was accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("bad.tsv:3: item id 'no-such-item' is not in the"),
                std::string::npos)
          << e.what();
    }
    o.skip_unknown_ids = true;
    const auto r = trainer::encode_items(o, comm);
    EXPECT_EQ(r.unknown, 1);
    EXPECT_EQ(r.encoded, 1);
  });
  write(dir_ + "/ids_bad.tsv", "id\tids\n" + raw_ids_[0] + "\t3 4 x5\n");
  o = options();
  o.text.clear();
  o.tokenizer.clear();
  o.token_ids = dir_ + "/ids_bad.tsv";
  testing::run_ranks(1, [&](core::Communicator& comm) {
    EXPECT_THROW(
        {
          try {
            trainer::encode_items(o, comm);
          } catch (const std::exception& e) {
            EXPECT_NE(std::string(e.what()).find("ids_bad.tsv:2: 'x5' is not a token id"),
                      std::string::npos)
                << e.what();
            throw;
          }
        },
        std::exception);
  });
  o.tokenizer = dir_ + "/tiny.model";
  testing::run_ranks(1, [&](core::Communicator& comm) {
    EXPECT_THROW(trainer::encode_items(o, comm), std::exception);  // --tokenizer with --token-ids
  });
}

// The identity check names what differs; a file's CRC is zlib's (CRC-32 of "123456789" is
// 0xcbf43926, the standard check value).
TEST(TextEncoderIdentity, NamesWhatDiffersFromTheRecordedEncoder) {
  const auto dir = fs::temp_directory_path() / ("divrec_identity_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream((dir / "enc.pt").string()) << "123456789";
  std::ofstream((dir / "vocab.txt").string()) << "123456789";
  const auto given = model::TextEncoderIdentity::of_files((dir / "enc.pt").string(),
                                                          (dir / "vocab.txt").string(), "mean", 64);
  EXPECT_EQ(given.encoder_crc32, 0xcbf43926u);
  const auto back = model::TextEncoderIdentity::from_json(given.to_json(), "x");
  EXPECT_EQ(back.to_json(), given.to_json());
  model::check_same_text_encoder(back, given, "artifact.h5");  // the same: no error
  auto expect_error = [&](model::TextEncoderIdentity recorded, const std::string& words) {
    try {
      model::check_same_text_encoder(recorded, given, "artifact.h5");
      ADD_FAILURE() << "no error for " << recorded.to_json();
    } catch (const divrec::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("artifact.h5"), std::string::npos) << e.what();
    }
  };
  auto other = back;
  other.encoder_crc32 ^= 1;
  expect_error(other, "--encoder is not the encoder");
  other = back;
  other.tokenizer_crc32 = 7;
  expect_error(other, "--tokenizer is not the tokenizer");
  other = back;
  other.tokenizer_crc32.reset();  // encoded from token ids: any tokenizer is accepted
  model::check_same_text_encoder(other, given, "artifact.h5");
  other = back;
  other.pooling = "cls";
  expect_error(other, "--pooling / --max-tokens differ");
  other = back;
  other.max_tokens = 32;
  expect_error(other, "--pooling / --max-tokens differ");
  other = back;
  other.pca_dim = 8;
  expect_error(other, "reduced by PCA to 8");
  EXPECT_THROW(model::TextEncoderIdentity::from_json("{\"encoder_crc32\": 5}", "x"), divrec::Error);
  EXPECT_THROW(model::TextEncoderIdentity::of_files((dir / "missing.pt").string(), "", "mean", 8),
               divrec::Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace divrec
