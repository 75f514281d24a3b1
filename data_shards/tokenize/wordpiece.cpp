// WordPiece (see wordpiece.h). Normalisation works on UTF-16 because ICU's normaliser and case
// mapping do; words go back to UTF-8 for the vocabulary lookup. Rules follow tokenizers'
// BertNormalizer / BertPreTokenizer / WordPiece (Rust), which the Python BertTokenizer mirrors.
#include "data_shards/tokenize/wordpiece.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <fstream>

#include "core/check.h"

namespace divrec::data {

namespace {

bool is_cjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_whitespace(UChar32 c) { return c == '\t' || c == '\n' || c == '\r' || u_isUWhiteSpace(c); }

// Unicode "Other" (Cc, Cf, Cs, Co, Cn), except the three counted as whitespace.
bool is_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(UChar32 c) {
  if (c < 128)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  switch (u_charType(c)) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

void append_utf16(std::u16string& s, UChar32 c) {
  if (c <= 0xFFFF) {
    s.push_back(static_cast<char16_t>(c));
  } else {
    s.push_back(static_cast<char16_t>(U16_LEAD(c)));
    s.push_back(static_cast<char16_t>(U16_TRAIL(c)));
  }
}

void append_utf8(std::string& s, UChar32 c) {
  char buf[4];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(buf, n, 4, c, error);
  if (!error) s.append(buf, static_cast<size_t>(n));
}

// ICU call with the UTF-16 buffer grown to what it reports it needs.
template <typename F>
std::u16string icu_transform(const std::u16string& in, F f, const char* what) {
  std::u16string out(in.size() + 16, u'\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = f(in, out, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      out.assign(static_cast<size_t>(n), u'\0');
      continue;
    }
    DIVREC_CHECK(U_SUCCESS(status), "WordPiece: ICU ", what, " failed: ", u_errorName(status));
    out.resize(static_cast<size_t>(n));
    return out;
  }
  DIVREC_FAIL("WordPiece: ICU ", what, " kept asking for a larger buffer");
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(const std::string& vocab_file, WordPieceOptions options)
    : options_(options) {
  std::ifstream in(vocab_file);
  DIVREC_CHECK_HINT(in.good(), "pass BERT's vocab.txt (one token per line)",
                    "WordPiece: cannot read vocabulary ", vocab_file);
  std::string line;
  int32_t id = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab_.emplace(line, id++);  // a repeated token keeps its first id, as tokenizers does
  }
  DIVREC_CHECK(!vocab_.empty(), "WordPiece: vocabulary ", vocab_file, " is empty");
  auto special = [&](const char* name) {
    auto it = vocab_.find(name);
    DIVREC_CHECK_HINT(it != vocab_.end(), "a BERT vocab.txt has [PAD], [UNK], [CLS] and [SEP]",
                      "WordPiece: vocabulary ", vocab_file, " has no ", name, " token");
    return it->second;
  };
  pad_ = special("[PAD]");
  unk_ = special("[UNK]");
  cls_ = special("[CLS]");
  sep_ = special("[SEP]");
}

std::vector<std::string> WordPieceTokenizer::words(const std::string& text) const {
  // 1. Clean (drop NUL, U+FFFD, invalid bytes and other controls; whitespace -> ' ') and put
  //    spaces around CJK ideographs.
  std::u16string s;
  s.reserve(text.size() + 8);
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t len = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U8_NEXT(bytes, i, len, c);
    if (c < 0 || c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      s.push_back(u' ');
    } else if (is_cjk(c)) {
      s.push_back(u' ');
      append_utf16(s, c);
      s.push_back(u' ');
    } else {
      append_utf16(s, c);
    }
  }
  // 2. Uncased models: NFD, drop non-spacing marks (accents), lower case.
  if (options_.lowercase) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
    DIVREC_CHECK(U_SUCCESS(status), "WordPiece: ICU NFD unavailable: ", u_errorName(status));
    s = icu_transform(
        s,
        [&](const std::u16string& a, std::u16string& b, UErrorCode* st) {
          return unorm2_normalize(nfd, a.data(), static_cast<int32_t>(a.size()), b.data(),
                                  static_cast<int32_t>(b.size()), st);
        },
        "NFD");
    std::u16string kept;
    kept.reserve(s.size());
    for (int32_t i = 0, n = static_cast<int32_t>(s.size()); i < n;) {
      UChar32 c;
      U16_NEXT(s.data(), i, n, c);
      if (u_charType(c) != U_NON_SPACING_MARK) append_utf16(kept, c);
    }
    s = icu_transform(
        kept,
        [](const std::u16string& a, std::u16string& b, UErrorCode* st) {
          return u_strToLower(b.data(), static_cast<int32_t>(b.size()), a.data(),
                              static_cast<int32_t>(a.size()), "", st);
        },
        "lower case");
  }
  // 3. Words: split on whitespace; every punctuation character is a word of its own.
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (int32_t i = 0, n = static_cast<int32_t>(s.size()); i < n;) {
    UChar32 c;
    U16_NEXT(s.data(), i, n, c);
    if (is_whitespace(c)) {
      flush();
    } else if (is_punctuation(c)) {
      flush();
      append_utf8(word, c);
      flush();
    } else {
      append_utf8(word, c);
    }
  }
  flush();
  return out;
}

void WordPieceTokenizer::word_pieces(const std::string& word, std::vector<int32_t>& out) const {
  // Code point boundaries of the word (pieces never split a character).
  std::vector<int32_t> cut{0};
  const auto* bytes = reinterpret_cast<const uint8_t*>(word.data());
  for (int32_t i = 0, n = static_cast<int32_t>(word.size()); i < n;) {
    UChar32 c;
    U8_NEXT(bytes, i, n, c);
    cut.push_back(i);
  }
  const size_t chars = cut.size() - 1;
  if (chars > static_cast<size_t>(options_.max_input_chars_per_word)) {
    out.push_back(unk_);
    return;
  }
  const size_t first = out.size();
  std::string piece;
  for (size_t start = 0; start < chars;) {
    size_t end = chars;
    int32_t found = -1;
    for (; end > start; --end) {
      piece.assign(start > 0 ? "##" : "");
      piece.append(word, static_cast<size_t>(cut[start]),
                   static_cast<size_t>(cut[end] - cut[start]));
      auto it = vocab_.find(piece);
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {  // no piece fits: the whole word is unknown
      out.resize(first);
      out.push_back(unk_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<int32_t> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  for (const auto& w : words(text)) word_pieces(w, ids);
  return ids;
}

std::vector<int32_t> WordPieceTokenizer::encode_for_model(const std::string& text,
                                                          int max_tokens) const {
  DIVREC_CHECK(max_tokens >= 2, "--max-tokens must be >= 2 ([CLS] and [SEP]), got ", max_tokens);
  std::vector<int32_t> ids = encode(text);
  if (ids.size() > static_cast<size_t>(max_tokens - 2))
    ids.resize(static_cast<size_t>(max_tokens - 2));
  ids.insert(ids.begin(), cls_);
  ids.push_back(sep_);
  return ids;
}

}  // namespace divrec::data
