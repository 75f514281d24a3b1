// divrec_spm_shim: a C interface over libsentencepiece, built as a module that text_tokens.cpp
// loads with dlopen(RTLD_LOCAL | RTLD_DEEPBIND). Why: Debian's libsentencepiece.so exports its
// own bundled copy of protobuf-lite (~1600 google::protobuf symbols), while LibTorch loads
// libprotobuf.so.32; linked into one executable, libprotobuf's static initialisers bind to
// sentencepiece's copies and crash before main. Loaded locally and deep-bound, each library
// keeps its own protobuf.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

void set_error(const std::string& what, char* err, size_t err_size) {
  if (err && err_size > 0) {
    std::strncpy(err, what.c_str(), err_size - 1);
    err[err_size - 1] = '\0';
  }
}

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(std::vector<std::string> texts) : texts_(std::move(texts)) {}
  bool done() const override { return k_ >= texts_.size(); }
  void Next() override { ++k_; }
  const std::string& value() const override { return texts_[k_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> texts_;
  size_t k_ = 0;
};

}  // namespace

extern "C" {

void* divrec_spm_load(const char* bytes, size_t n, char* err, size_t err_size) {
  auto* p = new sentencepiece::SentencePieceProcessor();
  auto st = p->LoadFromSerializedProto(std::string(bytes, n));
  if (!st.ok()) {
    set_error(st.ToString(), err, err_size);
    delete p;
    return nullptr;
  }
  return p;
}

void divrec_spm_free(void* h) { delete static_cast<sentencepiece::SentencePieceProcessor*>(h); }

int divrec_spm_size(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetPieceSize();
}

// Returns the number of ids (writing at most `cap` of them to out), or -1 on error.
long divrec_spm_encode(void* h, const char* text, size_t n, int* out, size_t cap, char* err,
                       size_t err_size) {
  std::vector<int> ids;
  auto st =
      static_cast<sentencepiece::SentencePieceProcessor*>(h)->Encode(std::string(text, n), &ids);
  if (!st.ok()) {
    set_error(st.ToString(), err, err_size);
    return -1;
  }
  std::memcpy(out, ids.data(), std::min(cap, ids.size()) * sizeof(int));
  return static_cast<long>(ids.size());
}

// texts: `count` NUL-terminated strings back to back; args: "key=value\n" lines. The model's
// bytes are returned in *model (malloc'ed; divrec_spm_free_bytes).
int divrec_spm_train(const char* texts, size_t count, const char* args, unsigned seed, char** model,
                     size_t* model_size, char* err, size_t err_size) {
  std::vector<std::string> v;
  for (size_t k = 0; k < count; ++k) {
    v.emplace_back(texts);
    texts += v.back().size() + 1;
  }
  std::unordered_map<std::string, std::string> kv;
  for (const char* p = args; *p;) {
    const char* e = std::strchr(p, '\n');
    std::string line(p, e ? static_cast<size_t>(e - p) : std::strlen(p));
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    p = e ? e + 1 : p + line.size();
  }
  sentencepiece::SetRandomGeneratorSeed(seed);
  VectorIterator it(std::move(v));
  std::string out;
  auto st = sentencepiece::SentencePieceTrainer::Train(kv, &it, &out);
  if (!st.ok()) {
    set_error(st.ToString(), err, err_size);
    return -1;
  }
  *model = static_cast<char*>(std::malloc(out.size()));
  std::memcpy(*model, out.data(), out.size());
  *model_size = out.size();
  return 0;
}

void divrec_spm_free_bytes(char* p) { std::free(p); }

}  // extern "C"
