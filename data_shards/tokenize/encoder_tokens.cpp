// EncoderTokenizer and parse_token_ids (see encoder_tokens.h).
#include "data_shards/tokenize/encoder_tokens.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <limits>

#include "core/check.h"

namespace divrec::data {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

EncoderTokenizer EncoderTokenizer::from_file(const std::string& path) {
  DIVREC_CHECK_HINT(std::filesystem::is_regular_file(path),
                    "pass the encoder's vocab.txt (WordPiece) or .model (SentencePiece) as "
                    "--tokenizer",
                    "tokenizer file '", path, "' does not exist");
  EncoderTokenizer t;
  if (ends_with(path, ".model")) {
    t.sentencepiece_ = std::make_shared<TextTokenizer>(TextTokenizer::from_file(path));
    t.pad_id_ = 0;
    t.description_ =
        fmt::format("sentencepiece {} ({} pieces)", path, t.sentencepiece_->vocab_size());
  } else {
    t.wordpiece_ = std::make_shared<WordPieceTokenizer>(path);
    t.pad_id_ = t.wordpiece_->pad_id();
    t.description_ = fmt::format("wordpiece {} ({} tokens)", path, t.wordpiece_->vocab_size());
  }
  return t;
}

std::vector<int32_t> EncoderTokenizer::encode(const std::string& text, int max_tokens) const {
  DIVREC_CHECK_HINT(max_tokens >= 2, "pass --max-tokens 2 or more", "--max-tokens ", max_tokens);
  if (wordpiece_) return wordpiece_->encode_for_model(text, max_tokens);
  return sentencepiece_->encode(text, max_tokens);
}

std::vector<int32_t> parse_token_ids(const std::string& text, int max_tokens,
                                     const std::string& where) {
  DIVREC_CHECK_HINT(max_tokens >= 1, "pass --max-tokens 1 or more", "--max-tokens ", max_tokens);
  std::vector<int32_t> ids;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    int64_t v = -1;
    const auto [next, ec] = std::from_chars(p, end, v);
    DIVREC_CHECK_HINT(ec == std::errc() && (next == end || *next == ' ') && v >= 0 &&
                          v <= std::numeric_limits<int32_t>::max(),
                      "write token ids as non-negative integers separated by spaces", where, ": '",
                      std::string(p, static_cast<size_t>(std::min<ptrdiff_t>(end - p, 20))),
                      "' is not a token id");
    if (static_cast<int>(ids.size()) < max_tokens) ids.push_back(static_cast<int32_t>(v));
    p = next;
  }
  DIVREC_CHECK_HINT(!ids.empty(), "give every listed item at least one token id (or leave it out)",
                    where, ": no token ids");
  return ids;
}

}  // namespace divrec::data
