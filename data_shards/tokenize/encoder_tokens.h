// Item texts as a pre-trained encoder's input (`divrec encode-items`): token ids from the
// encoder's own tokenizer -- a WordPiece vocabulary (BERT / MiniLM vocab.txt: [CLS] text [SEP]) or
// a SentencePiece model (.model: the pieces as they are) -- or ids tokenized elsewhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data_shards/text_tokens.h"
#include "data_shards/tokenize/wordpiece.h"

namespace divrec::data {

class EncoderTokenizer {
 public:
  // path: a SentencePiece model when it ends in ".model", else a WordPiece vocab.txt. Throws
  // naming the file when it cannot be read (wordpiece.h, text_tokens.h).
  static EncoderTokenizer from_file(const std::string& path);

  // The ids the encoder is fed for `text`, at most max_tokens (>= 2) of them: WordPiece adds
  // [CLS] and [SEP] around the truncated pieces; SentencePiece keeps the first max_tokens pieces.
  std::vector<int32_t> encode(const std::string& text, int max_tokens) const;
  // The padding id: WordPiece's [PAD]; 0 for SentencePiece (whose models usually have no pad
  // piece; padded positions are masked out, so any valid id works).
  int32_t pad_id() const { return pad_id_; }
  // "wordpiece FILE (V tokens)" / "sentencepiece FILE (V pieces)", for logs.
  const std::string& description() const { return description_; }

 private:
  std::shared_ptr<WordPieceTokenizer> wordpiece_;
  std::shared_ptr<TextTokenizer> sentencepiece_;
  int32_t pad_id_ = 0;
  std::string description_;
};

// Token ids written out by another tokenizer: non-negative integers separated by spaces, cut to
// the first max_tokens. Throws naming `where` (FILE:LINE) for anything else or an empty list.
std::vector<int32_t> parse_token_ids(const std::string& text, int max_tokens,
                                     const std::string& where);

}  // namespace divrec::data
