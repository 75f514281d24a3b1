// Reading and writing the divrec ANN index file (header + Faiss payload); see ann_file.h.
#include "eval/retrieval/ann_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::eval {
namespace {

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

}  // namespace

AnnFileHeader make_ann_header(const AnnBuildOptions& opts, int64_t items, int64_t dim,
                              uint32_t vectors_crc, float mips_norm,
                              const std::vector<uint8_t>& payload) {
  AnnFileHeader h{};
  std::memcpy(h.magic, kAnnMagic, sizeof(kAnnMagic));
  h.version = kAnnFormatVersion;
  h.kind = static_cast<uint32_t>(opts.kind);
  h.items = items;
  h.dim = dim;
  h.hnsw_m = opts.hnsw_m;
  h.ef_construction = opts.ef_construction;
  h.ivf_nlist = opts.ivf_nlist;
  h.vectors_crc = vectors_crc;
  h.mips_norm = mips_norm;
  h.payload_bytes = payload.size();
  h.payload_crc = core::crc32_bytes(payload.data(), payload.size());
  return h;
}

AnnBuildOptions header_options(const AnnFileHeader& h) {
  AnnBuildOptions o;
  o.kind = static_cast<AnnKind>(h.kind);
  o.hnsw_m = h.hnsw_m;
  o.ef_construction = h.ef_construction;
  o.ivf_nlist = h.ivf_nlist;
  return o;
}

void write_ann_file(const std::string& path, const AnnFileHeader& h,
                    const std::vector<uint8_t>& payload) {
  std::string tmp = core::temp_path_for(path);
  {
    FilePtr f(std::fopen(tmp.c_str(), "wb"));
    DIVREC_CHECK_HINT(f != nullptr, "check that the directory exists and is writable",
                      "cannot create ANN index file ", tmp, ": ", std::strerror(errno));
    bool ok = std::fwrite(&h, sizeof(h), 1, f.get()) == 1 &&
              (payload.empty() ||
               std::fwrite(payload.data(), 1, payload.size(), f.get()) == payload.size()) &&
              std::fflush(f.get()) == 0;
    if (!ok) {
      int err = errno;
      f.reset();
      std::remove(tmp.c_str());
      DIVREC_CHECK_HINT(false, "check free disk space", "writing ANN index file ", tmp,
                        " failed: ", std::strerror(err));
    }
  }
  core::commit_file(tmp, path);
}

AnnFileHeader read_ann_file(const std::string& path, std::vector<uint8_t>* payload) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  DIVREC_CHECK_HINT(f != nullptr, "build the index first, or check the path",
                    "cannot open ANN index file ", path, ": ", std::strerror(errno));
  AnnFileHeader h{};
  size_t got = std::fread(&h, 1, sizeof(h), f.get());
  DIVREC_CHECK_HINT(got == sizeof(h) && std::memcmp(h.magic, kAnnMagic, sizeof(kAnnMagic)) == 0,
                    "pass a file written by divrec's ANN index save", "", path,
                    " is not a divrec ANN index file (expected the 64-byte header ",
                    "with magic DVRANNX1", got < sizeof(h) ? "; the file is shorter" : "", ")");
  DIVREC_CHECK_HINT(h.version == kAnnFormatVersion, "rebuild the index with this divrec",
                    "ANN index file ", path, " has format version ", h.version,
                    ", this build reads version ", kAnnFormatVersion);
  DIVREC_CHECK_HINT(h.kind == static_cast<uint32_t>(AnnKind::kHnsw) ||
                        h.kind == static_cast<uint32_t>(AnnKind::kIvfFlat),
                    "rebuild the index", "ANN index file ", path, " has unknown kind ", h.kind);
  DIVREC_CHECK_HINT(h.items >= 1 && h.dim >= 1, "rebuild the index", "ANN index file ", path,
                    " has an invalid shape [", h.items, ", ", h.dim, "]");
  // Size against the file before allocating: a damaged header must not ask for terabytes.
  std::fseek(f.get(), 0, SEEK_END);
  long end = std::ftell(f.get());
  std::fseek(f.get(), sizeof(h), SEEK_SET);
  uint64_t have = end > static_cast<long>(sizeof(h)) ? uint64_t(end) - sizeof(h) : 0;
  DIVREC_CHECK_HINT(have == h.payload_bytes, "the file is truncated: rebuild or copy it again",
                    "ANN index file ", path, " holds ", have, " payload bytes, header says ",
                    h.payload_bytes);
  payload->resize(h.payload_bytes);
  size_t n = h.payload_bytes ? std::fread(payload->data(), 1, h.payload_bytes, f.get()) : 0;
  DIVREC_CHECK_HINT(n == h.payload_bytes, "the file is truncated: rebuild or copy it again",
                    "ANN index file ", path, " holds ", n, " payload bytes, header says ",
                    h.payload_bytes);
  uint32_t crc = core::crc32_bytes(payload->data(), payload->size());
  DIVREC_CHECK_HINT(crc == h.payload_crc, "the file is corrupt: rebuild or copy it again",
                    "ANN index file ", path, ": payload CRC-32 ", crc, ", header says ",
                    h.payload_crc);
  return h;
}

}  // namespace divrec::eval
