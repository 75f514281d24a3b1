// Item text (`shard convert --item-text`): SentencePiece training is deterministic and its ids
// agree with the Python SentencePiece binding (python3-sentencepiece, run at test time on the
// same model bytes), a model made by the `spm_train` CLI loads and agrees too, and the item table
// stores each catalog item's truncated ids in CSR form with the tokenizer's bytes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/run_command.h"
#include "core/fs.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/item_text.h"
#include "data_shards/reader.h"
#include "data_shards/text_tokens.h"
#include "data_shards/writer.h"
#include "test_util.h"

using namespace divrec::data;
using divrec::testing::error_of;
using divrec::testing::scratch_dir;
using divrec::testing::write_text;

namespace {

const char* kPython = "/usr/bin/python3";

using divrec::testing::run_command;

bool python_has_sentencepiece() {
  return std::filesystem::exists(kPython) &&
         run_command(std::string(kPython) + " -c 'import sentencepiece' 2>/dev/null").first == 0;
}

// Beauty-like titles from a formula (brands, products, sizes, some unicode and digits).
std::vector<std::string> titles(int n) {
  const std::vector<std::string> brand = {"OPI",        "L'Oreal",     "Maybelline", "NYX",
                                          "Neutrogena", "Burt's Bees", "Revlon",     "e.l.f."};
  const std::vector<std::string> what = {"Nail Lacquer", "Eyeshadow Palette", "Lip Balm",
                                         "BB Cream",     "Mascara",           "Face Wash",
                                         "Concealer",    "Crème Hydratante"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(brand[static_cast<size_t>(i % 8)] + " " + what[static_cast<size_t>(i * 3 % 8)] +
                  ", " + std::to_string(i % 5 + 1) + ".5-Fluid Ounce Shade " +
                  std::to_string(100 + i));
  }
  return out;
}

// ids of `texts` by the Python binding loading `model_path`.
std::vector<std::vector<int32_t>> python_ids(const std::string& model_path,
                                             const std::vector<std::string>& texts) {
  const auto dir = std::filesystem::path(model_path).parent_path().string();
  write_text(dir + "/texts.json", nlohmann::json(texts).dump());
  const std::string cmd = std::string(kPython) +
                          " -c 'import json, sys, sentencepiece as s; p = s.SentencePieceProcessor("
                          "model_file=sys.argv[1]); print(json.dumps([p.encode(t) for t in "
                          "json.load(open(sys.argv[2]))]))' " +
                          model_path + " " + dir + "/texts.json";
  auto [rc, out] = run_command(cmd);
  EXPECT_EQ(rc, 0) << out;
  return nlohmann::json::parse(out).get<std::vector<std::vector<int32_t>>>();
}

TEST(TextTokenizer, TrainedModelIsDeterministicAndMatchesPython) {
  if (!text_tokenizer_available()) GTEST_SKIP() << "no SentencePiece in AddressSanitizer builds";
  if (!python_has_sentencepiece()) GTEST_SKIP() << "python3-sentencepiece not installed";
  const auto texts = titles(60);
  TextTokenizerOptions o;
  o.vocab_size = 120;
  const auto bytes = train_text_tokenizer(texts, o);
  EXPECT_EQ(train_text_tokenizer(texts, o), bytes);
  TextTokenizer tok(bytes, "trained");
  EXPECT_LE(tok.vocab_size(), 120);
  EXPECT_GT(tok.vocab_size(), 20);
  const auto dir = scratch_dir("spm_trained");
  divrec::core::write_file_atomic(dir + "/m.model", bytes);
  auto probe = texts;
  probe.push_back("Unseen Brand Zzyzx Shampoo 12-Pack");  // pieces outside the vocabulary
  probe.push_back("");
  const auto want = python_ids(dir + "/m.model", probe);
  ASSERT_EQ(want.size(), probe.size());
  for (size_t k = 0; k < probe.size(); ++k) EXPECT_EQ(tok.encode(probe[k]), want[k]) << probe[k];
  const auto cut = tok.encode(probe[0], 3);
  EXPECT_EQ(cut, std::vector<int32_t>(want[0].begin(), want[0].begin() + 3));
}

TEST(TextTokenizer, SpmTrainModelLoadsAndMatchesPython) {
  if (!text_tokenizer_available()) GTEST_SKIP() << "no SentencePiece in AddressSanitizer builds";
  if (!python_has_sentencepiece() || run_command("command -v spm_train >/dev/null").first != 0) {
    GTEST_SKIP() << "spm_train (Debian: sentencepiece) or python3-sentencepiece missing";
  }
  const auto dir = scratch_dir("spm_cli");
  std::string lines;
  for (const auto& t : titles(60)) lines += t + "\n";
  write_text(dir + "/titles.txt", lines);
  auto [rc, out] = run_command("spm_train --input=" + dir + "/titles.txt --model_prefix=" + dir +
                               "/cli --vocab_size=100 --model_type=bpe --minloglevel=2 2>&1");
  ASSERT_EQ(rc, 0) << out;
  auto tok = TextTokenizer::from_file(dir + "/cli.model");
  const auto texts = titles(12);
  const auto want = python_ids(dir + "/cli.model", texts);
  for (size_t k = 0; k < texts.size(); ++k) EXPECT_EQ(tok.encode(texts[k]), want[k]);
  EXPECT_NE(error_of([&] {
              TextTokenizer::from_file(dir + "/titles.txt");
            }).find("cannot load the SentencePiece model"),
            std::string::npos);
}

// Synthetic interactions (items "0".."29") + a titles file: the header, item 4 with an empty
// title, item 9 without a line, an id the data does not have, a 3-column line (asin in between).
TEST(ItemText, ConvertStoresTruncatedIdsPerItem) {
  if (!text_tokenizer_available()) GTEST_SKIP() << "no SentencePiece in AddressSanitizer builds";
  SyntheticOptions so;
  so.users = 100;
  so.items = 30;
  so.categories = 3;
  so.content_dim = 0;
  so.seed = 2;
  so.cover_items = true;
  RawDataset raw = convert_synthetic(so);
  const auto dir = scratch_dir("item_text");
  const auto texts = titles(30);
  std::string tsv = "item_id\ttitle\n";
  for (int i = 0; i < 30; ++i) {
    if (i == 9) continue;
    tsv += std::to_string(i) + (i == 5 ? "\tB00ASIN\t" : "\t") + (i == 4 ? "" : texts[i]) + "\n";
  }
  tsv += "not-an-item\tsomething else\n";
  write_text(dir + "/titles.tsv", tsv);
  ItemTextOptions t;
  t.path = dir + "/titles.tsv";
  t.train.vocab_size = 90;
  t.max_tokens = 6;
  attach_item_text(&raw, t);
  WriteOptions w;
  w.output_dir = dir + "/ds";
  w.command = "test";
  write_dataset(raw, w);
  validate_dataset(w.output_dir);
  ItemTable table = read_item_table(w.output_dir);
  TextTokenizer tok(table.text_tokenizer, "items.h5");
  EXPECT_EQ(table.text_vocab, tok.vocab_size());
  ASSERT_EQ(table.text_offsets.size(), 31u);
  for (int64_t i = 0; i < 30; ++i) {
    const int raw_id = std::stoi(table.raw_ids[static_cast<size_t>(i)]);
    const auto want =
        raw_id == 4 || raw_id == 9 ? std::vector<int32_t>{} : tok.encode(texts[raw_id], 6);
    std::vector<int32_t> got(table.text_ids.begin() + table.text_offsets[i],
                             table.text_ids.begin() + table.text_offsets[i + 1]);
    EXPECT_EQ(got, want) << "item " << raw_id;
    if (raw_id != 4 && raw_id != 9) {
      EXPECT_EQ(got.size(), 6u);
    }
  }
  // Errors name the file and line.
  write_text(dir + "/dup.tsv", "id\ttext\n3\ta\n3\tb\n");
  t.path = dir + "/dup.tsv";
  EXPECT_NE(error_of([&] {
              attach_item_text(&raw, t);
            }).find("dup.tsv:3: item '3' already has a text (line 2)"),
            std::string::npos);
  write_text(dir + "/one.tsv", "id\ttext\n3\n");
  t.path = dir + "/one.tsv";
  EXPECT_NE(error_of([&] { attach_item_text(&raw, t); }).find("one.tsv:2: expected: raw item id"),
            std::string::npos);
  t.path = dir + "/titles.tsv";
  t.tokenizer = dir + "/no.model";
  EXPECT_NE(error_of([&] { attach_item_text(&raw, t); }).find("no such file"), std::string::npos);
}

}  // namespace
