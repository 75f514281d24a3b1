// BERT's WordPiece tokenization in C++ (the uncased BERT / MiniLM family): the BertNormalizer
// (clean, CJK spacing, NFD accent stripping, lower case), the BertPreTokenizer (whitespace and
// punctuation) and greedy longest-match-first WordPiece, matching Hugging Face `tokenizers`
// (checked against it in tests/data_shards/test_wordpiece.cpp). Unicode tables come from ICU.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace divrec::data {

struct WordPieceOptions {
  bool lowercase = true;               // uncased models: lower case and strip accents
  int max_input_chars_per_word = 100;  // longer words become [UNK] (as tokenizers does)
};

class WordPieceTokenizer {
 public:
  // vocab_file: one token per line, id = 0-based line number (BERT's vocab.txt). Throws naming the
  // file when it cannot be read, is empty, or lacks [UNK], [CLS], [SEP] or [PAD].
  explicit WordPieceTokenizer(const std::string& vocab_file, WordPieceOptions options = {});

  // The normalised, pre-tokenised words of `text` (UTF-8; invalid bytes are dropped like U+FFFD).
  std::vector<std::string> words(const std::string& text) const;
  // Token ids of `text` without special tokens.
  std::vector<int32_t> encode(const std::string& text) const;
  // [CLS] + encode(text) cut to max_tokens - 2 + [SEP] (what BERT models are fed); max_tokens >= 2.
  std::vector<int32_t> encode_for_model(const std::string& text, int max_tokens) const;

  int32_t pad_id() const { return pad_; }
  int32_t cls_id() const { return cls_; }
  int32_t sep_id() const { return sep_; }
  int32_t unk_id() const { return unk_; }
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }

 private:
  void word_pieces(const std::string& word, std::vector<int32_t>& out) const;

  WordPieceOptions options_;
  std::unordered_map<std::string, int32_t> vocab_;
  int32_t pad_ = -1, unk_ = -1, cls_ = -1, sep_ = -1;
};

}  // namespace divrec::data
