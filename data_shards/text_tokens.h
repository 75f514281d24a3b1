// Item text as subword ids: a SentencePiece model (trained on the item texts with the library's
// trainer API, or given by the user) held as its serialized bytes, so the item table carries the
// exact tokenizer that made its ids. libsentencepiece (Debian 0.1.97) is reached through
// divrec_spm_shim, loaded at run time (spm_shim.cpp says why it cannot be linked directly).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace divrec::data {

struct TextTokenizerOptions {
  int vocab_size = 4000;
  std::string model_type = "unigram";  // unigram | bpe (SentencePiece's)
};

// False in AddressSanitizer builds: the shim must be loaded with RTLD_DEEPBIND (spm_shim.cpp),
// which ASan refuses (google/sanitizers#611), so there every call below throws instead.
bool text_tokenizer_available();

// Trains a SentencePiece model on `texts` (empty ones skipped) and returns its serialized bytes.
// Single-threaded with a fixed seed, so the same texts give the same model.
std::string train_text_tokenizer(const std::vector<std::string>& texts,
                                 const TextTokenizerOptions& options);

class TextTokenizer {
 public:
  // From a model's bytes (`where` names its source for errors).
  TextTokenizer(const std::string& model_bytes, const std::string& where);
  ~TextTokenizer();
  TextTokenizer(TextTokenizer&&) noexcept;
  TextTokenizer(const TextTokenizer&) = delete;
  TextTokenizer& operator=(const TextTokenizer&) = delete;
  TextTokenizer& operator=(TextTokenizer&&) = delete;
  static TextTokenizer from_file(const std::string& path);

  int vocab_size() const;
  // Piece ids of `text` (unknown pieces map to SentencePiece's unk id), at most max_tokens
  // (0 = all) taken from the start.
  std::vector<int32_t> encode(const std::string& text, int64_t max_tokens = 0) const;
  const std::string& model_bytes() const { return bytes_; }

 private:
  std::string bytes_;
  void* handle_ = nullptr;  // the shim's SentencePieceProcessor
};

}  // namespace divrec::data
