// TextEncoderIdentity (see text_encoder_identity.h): file CRCs, JSON round trip, the match check.
#include "trainer/model/text_encoder_identity.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::model {

namespace {

std::string hex(uint32_t v) { return fmt::format("{:#010x}", v); }

uint32_t parse_hex(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto s = j.at(key).get<std::string>();
  size_t used = 0;
  const unsigned long v = std::stoul(s, &used, 16);
  DIVREC_CHECK(used == s.size() && v <= 0xffffffffUL, where, ": ", key, " '", s,
               "' is not a 32-bit hex value");
  return static_cast<uint32_t>(v);
}

}  // namespace

TextEncoderIdentity TextEncoderIdentity::of_files(const std::string& encoder,
                                                  const std::string& tokenizer,
                                                  const std::string& pooling, int max_tokens) {
  TextEncoderIdentity id;
  DIVREC_CHECK(core::path_exists(encoder), "text encoder '", encoder, "' does not exist");
  id.encoder_crc32 = core::crc32_file(encoder);
  if (!tokenizer.empty()) {
    DIVREC_CHECK(core::path_exists(tokenizer), "tokenizer '", tokenizer, "' does not exist");
    id.tokenizer_crc32 = core::crc32_file(tokenizer);
  }
  id.pooling = pooling;
  id.max_tokens = max_tokens;
  return id;
}

std::string TextEncoderIdentity::to_json() const {
  nlohmann::json j{{"encoder_crc32", hex(encoder_crc32)},
                   {"tokenizer_crc32", nullptr},
                   {"pooling", pooling},
                   {"max_tokens", max_tokens},
                   {"pca_dim", pca_dim}};
  if (tokenizer_crc32) j["tokenizer_crc32"] = hex(*tokenizer_crc32);
  return j.dump();
}

TextEncoderIdentity TextEncoderIdentity::from_json(const std::string& json,
                                                   const std::string& where) {
  try {
    const auto j = nlohmann::json::parse(json);
    TextEncoderIdentity id;
    id.encoder_crc32 = parse_hex(j, "encoder_crc32", where);
    if (!j.at("tokenizer_crc32").is_null())
      id.tokenizer_crc32 = parse_hex(j, "tokenizer_crc32", where);
    id.pooling = j.at("pooling").get<std::string>();
    id.max_tokens = j.at("max_tokens").get<int>();
    id.pca_dim = j.at("pca_dim").get<int64_t>();
    return id;
  } catch (const divrec::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw divrec::Error(
        __FILE__, __LINE__,
        fmt::format("{}: unreadable text-encoder identity '{}': {}", where, json, e.what()),
        "re-run `divrec encode-items` to record it again");
  }
}

void check_same_text_encoder(const TextEncoderIdentity& recorded, const TextEncoderIdentity& given,
                             const std::string& where) {
  const std::string both =
      fmt::format(" (recorded {}, given {})", recorded.to_json(), given.to_json());
  DIVREC_CHECK_HINT(recorded.pca_dim == 0,
                    "give the new items a \"content\" vector projected as the catalog's was", where,
                    ": the catalog's content was reduced by PCA to ", recorded.pca_dim,
                    " dims when it was encoded, and append-items cannot reproduce that projection",
                    both);
  DIVREC_CHECK_HINT(recorded.encoder_crc32 == given.encoder_crc32,
                    "pass the --encoder file `divrec encode-items` ran", where,
                    ": --encoder is not the encoder that made the catalog's content", both);
  DIVREC_CHECK_HINT(!recorded.tokenizer_crc32 || !given.tokenizer_crc32 ||
                        *recorded.tokenizer_crc32 == *given.tokenizer_crc32,
                    "pass the --tokenizer `divrec encode-items` ran", where,
                    ": --tokenizer is not the tokenizer that made the catalog's content", both);
  DIVREC_CHECK_HINT(
      recorded.pooling == given.pooling && recorded.max_tokens == given.max_tokens,
      fmt::format("pass --pooling {} --max-tokens {}", recorded.pooling, recorded.max_tokens),
      where, ": --pooling / --max-tokens differ from the catalog's encoding", both);
}

}  // namespace divrec::model
