// Which text encoder made a catalog's content vectors: CRC-32 of the TorchScript file and of the
// tokenizer, the pooling, the token limit and any PCA, recorded by `divrec encode-items` with the
// vectors (items.h5 and the serving artifact keep it as `content_encoder`, JSON), so that `divrec
// append-items --encoder` refuses an encoder that would put new items in another vector space.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace divrec::model {

struct TextEncoderIdentity {
  uint32_t encoder_crc32 = 0;               // zlib CRC-32 of the TorchScript file's bytes
  std::optional<uint32_t> tokenizer_crc32;  // of vocab.txt / SPM .model; none: --token-ids
  std::string pooling = "mean";             // mean | cls
  int max_tokens = 0;                       // per text, special tokens included
  int64_t pca_dim = 0;                      // encode-items --pca (0 = the encoder's own width)

  // Reads both files (core::crc32_file); throws naming a file that cannot be read.
  static TextEncoderIdentity of_files(const std::string& encoder, const std::string& tokenizer,
                                      const std::string& pooling, int max_tokens);
  // {"encoder_crc32": "0x1234abcd", "tokenizer_crc32": "0x..." | null, "pooling": "mean",
  //  "max_tokens": 256, "pca_dim": 0}
  std::string to_json() const;
  // Throws naming `where` (file and attribute) when `json` is not what to_json() writes.
  static TextEncoderIdentity from_json(const std::string& json, const std::string& where);
};

// Throws (naming `where`, both identities and a hint) unless `given` reproduces the vectors of
// `recorded`: the same encoder file, pooling and token limit, the same tokenizer when both name
// one (a catalog encoded from --token-ids made by that tokenizer matches it), and no PCA (its
// basis is not stored, so raw encoder outputs are in another space).
void check_same_text_encoder(const TextEncoderIdentity& recorded, const TextEncoderIdentity& given,
                             const std::string& where);

}  // namespace divrec::model
