// SentencePiece training and encoding (see text_tokens.h) through divrec_spm_shim, found at
// $DIVREC_SPM_SHIM, else at the path the build recorded (DIVREC_SPM_SHIM_PATH), else beside the
// executable.
#include "data_shards/text_tokens.h"

#include <dlfcn.h>

#include <filesystem>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::data {

namespace {

struct Shim {
  void* (*load)(const char*, size_t, char*, size_t);
  void (*free)(void*);
  int (*size)(void*);
  long (*encode)(void*, const char*, size_t, int*, size_t, char*, size_t);
  int (*train)(const char*, size_t, const char*, unsigned, char**, size_t*, char*, size_t);
  void (*free_bytes)(char*);
};

std::string shim_path() {
  if (const char* env = std::getenv("DIVREC_SPM_SHIM")) return env;
  if (std::filesystem::exists(DIVREC_SPM_SHIM_PATH)) return DIVREC_SPM_SHIM_PATH;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / std::filesystem::path(DIVREC_SPM_SHIM_PATH).filename()).string();
}

const Shim& shim() {
  DIVREC_CHECK_HINT(text_tokenizer_available(), "use a build without -DDIVREC_SANITIZE=ON",
                    "SentencePiece item text is not available in AddressSanitizer builds (its "
                    "shim needs dlopen with RTLD_DEEPBIND, which ASan refuses)");
  static const Shim s = [] {
    const std::string path = shim_path();
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    DIVREC_CHECK_HINT(h, "build the divrec_spm_shim target, or point DIVREC_SPM_SHIM at it",
                      "cannot load the SentencePiece shim '", path, "': ", ::dlerror());
    auto sym = [&](const char* name) {
      void* f = ::dlsym(h, name);
      DIVREC_CHECK(f, "SentencePiece shim '", path, "' lacks ", name);
      return f;
    };
    Shim r;
    r.load = reinterpret_cast<decltype(r.load)>(sym("divrec_spm_load"));
    r.free = reinterpret_cast<decltype(r.free)>(sym("divrec_spm_free"));
    r.size = reinterpret_cast<decltype(r.size)>(sym("divrec_spm_size"));
    r.encode = reinterpret_cast<decltype(r.encode)>(sym("divrec_spm_encode"));
    r.train = reinterpret_cast<decltype(r.train)>(sym("divrec_spm_train"));
    r.free_bytes = reinterpret_cast<decltype(r.free_bytes)>(sym("divrec_spm_free_bytes"));
    return r;
  }();
  return s;
}

}  // namespace

bool text_tokenizer_available() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  return true;
#endif
}

std::string train_text_tokenizer(const std::vector<std::string>& texts,
                                 const TextTokenizerOptions& o) {
  DIVREC_CHECK_HINT(o.vocab_size >= 8, "pass --text-vocab-size 8 or more", "--text-vocab-size ",
                    o.vocab_size);
  DIVREC_CHECK_HINT(o.model_type == "unigram" || o.model_type == "bpe",
                    "pass --text-model-type unigram or bpe", "unknown tokenizer type '",
                    o.model_type, "'");
  std::string joined;  // non-empty texts, NUL-separated
  size_t count = 0;
  for (const auto& t : texts) {
    if (t.empty()) continue;
    joined.append(t.c_str(), t.size() + 1);  // a NUL inside a text ends it there
    ++count;
  }
  DIVREC_CHECK_HINT(count > 0, "give the items some text",
                    "no non-empty item text to train the tokenizer on");
  const std::string args = "model_type=" + o.model_type +
                           "\nvocab_size=" + std::to_string(o.vocab_size) +
                           "\ncharacter_coverage=1.0\nnum_threads=1\nminloglevel=2\n"
                           "hard_vocab_limit=false\n";  // small catalogs: fewer pieces, no error
  char* model = nullptr;
  size_t size = 0;
  char err[512] = {};
  int rc = shim().train(joined.data(), count, args.c_str(), 1, &model, &size, err, sizeof err);
  DIVREC_CHECK_HINT(rc == 0, "try a smaller --text-vocab-size",
                    "SentencePiece training failed: ", err);
  std::string out(model, size);
  shim().free_bytes(model);
  return out;
}

TextTokenizer::TextTokenizer(const std::string& model_bytes, const std::string& where)
    : bytes_(model_bytes) {
  char err[512] = {};
  handle_ = shim().load(bytes_.data(), bytes_.size(), err, sizeof err);
  DIVREC_CHECK_HINT(handle_, "pass a model written by spm_train",
                    "cannot load the SentencePiece model ", where, ": ", err);
}

TextTokenizer::~TextTokenizer() {
  if (handle_) shim().free(handle_);
}

TextTokenizer::TextTokenizer(TextTokenizer&& o) noexcept
    : bytes_(std::move(o.bytes_)), handle_(o.handle_) {
  o.handle_ = nullptr;
}

TextTokenizer TextTokenizer::from_file(const std::string& path) {
  DIVREC_CHECK_HINT(core::path_exists(path), "check --text-tokenizer", "no such file '", path, "'");
  return TextTokenizer(core::read_file(path), "'" + path + "'");
}

int TextTokenizer::vocab_size() const { return shim().size(handle_); }

std::vector<int32_t> TextTokenizer::encode(const std::string& text, int64_t max_tokens) const {
  std::vector<int> ids(text.size() + 8);  // pieces <= bytes (+ a few for byte fallback)
  char err[512] = {};
  for (;;) {
    long n =
        shim().encode(handle_, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
    DIVREC_CHECK(n >= 0, "SentencePiece encode failed: ", err);
    if (static_cast<size_t>(n) <= ids.size()) {
      ids.resize(static_cast<size_t>(n));
      break;
    }
    ids.resize(static_cast<size_t>(n));
  }
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) {
    ids.resize(static_cast<size_t>(max_tokens));
  }
  return {ids.begin(), ids.end()};
}

}  // namespace divrec::data
