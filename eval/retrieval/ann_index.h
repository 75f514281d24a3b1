// AnnIndex: approximate maximum-inner-product retrieval over item vectors [I, D] float32 with
// Faiss (HNSW-flat or IVF-flat), for serving and offline evaluation. Per-call search parameters
// (efSearch, nprobe, threads) let concurrent request threads share one index. Saved files carry a
// header (magic, version, I, D, kind, build options, CRC-32 of the item vectors).
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "eval/retrieval/ann_kind.h"

namespace faiss {
struct Index;
}

namespace divrec::eval {

struct AnnBuildOptions {
  AnnKind kind = AnnKind::kAuto;       // resolved by build() (resolve_ann_kind)
  int hnsw_m = 32;                     // graph degree (level 0 has 2*M links); memory 8*M B/item
  int ef_construction = 200;           // HNSW build beam width
  int ivf_nlist = 0;                   // IVF lists; 0 = 4*sqrt(I) rounded, clamped to [1, I]
  int64_t ivf_train_sample = 200'000;  // items sampled (seeded) to train the IVF centroids
  uint64_t seed = 1234;                // IVF training sample
  int build_threads = 0;               // OpenMP threads for build/add; 0 = OpenMP's default
  // HNSW only. The graph is built in L2 over [x, sqrt(phi^2 - |x|^2)] (phi = this factor x the
  // largest build norm), where nearest in L2 == largest inner product with [q, 0] (Bachrach et
  // al. 2014): an inner-product graph is not a metric graph (lower recall, appended items
  // missed: docs/serving.md). Appended items must have norm <= phi; headroom leaves room.
  float mips_headroom = 1.25f;
};

// Who scans IVF-flat lists: divrec's SIMD inner products (ivf_scan.h; the default) or Faiss's
// own IndexIVFFlat::search (scalar in Debian's build), kept for comparison in tests and benchmarks.
enum class IvfScan : uint8_t { kDivrec = 0, kFaiss = 1 };

struct AnnSearchParams {
  int ef_search = 256;  // HNSW beam (max with k); use >= k: 384-512 for k 200 at 1 M items
  int nprobe = 0;       // IVF lists visited; 0 = auto_nprobe(nlist), ~sqrt(nlist)
  IvfScan ivf_scan = IvfScan::kDivrec;
  // OpenMP threads for this call (only the calling thread's setting is changed, and restored).
  // 1 keeps one request on one core: serving's request threads must not each fan out to all
  // cores (oversubscription). Larger values pay off for offline batches (B >> 1).
  int threads = 1;
};

// Results of one search: row-major [batch, k]; ids are item rows (int64, -1 when the index
// returned fewer than k), scores are inner products (float32), best first.
struct AnnHits {
  int64_t batch = 0;
  int64_t k = 0;
  std::vector<int64_t> ids;
  std::vector<float> scores;
};

class AnnIndex {
 public:
  // Builds over items [n, d] (row-major float32; row i is item id i). n >= 1, d >= 1.
  static AnnIndex build(const float* items, int64_t n, int64_t d, const AnnBuildOptions& opts);
  // Reads a file written by save(). Throws naming the file for a missing/short/foreign/corrupt
  // file or an unsupported format version.
  static AnnIndex load(const std::string& path);
  // As load(), and also checks that the index was built from exactly these vectors [n, d]
  // (I, D and the CRC-32 of the bytes); throws naming the file and both values otherwise.
  static AnnIndex load(const std::string& path, const float* items, int64_t n, int64_t d);

  AnnIndex(AnnIndex&&) noexcept;
  AnnIndex& operator=(AnnIndex&&) noexcept;
  ~AnnIndex();

  // Top-k items by inner product for users [batch, dim()] (row-major float32). Thread-safe with
  // other search() calls; not with add(). k in [1, size()].
  AnnHits search(const float* users, int64_t batch, int64_t k, const AnnSearchParams& p) const;
  // Appends items [n, d] (d must equal dim()); they get ids size() .. size()+n-1. Updates the
  // vector checksum as if the index had been built from the concatenation. HNSW: throws when an
  // item's norm exceeds mips_norm() (rebuild, or build with a larger mips_headroom).
  void add(const float* items, int64_t n, int64_t d);
  // Writes header + Faiss payload to a temp file, fsyncs, renames onto path.
  void save(const std::string& path) const;

  int64_t size() const { return items_; }
  int64_t dim() const { return dim_; }
  AnnKind kind() const { return opts_.kind; }  // never kAuto
  // The lists an IVF search with `p` probes (p.nprobe, or auto_nprobe when 0, at most nlist);
  // 0 for HNSW. Throws for p.nprobe < 0 (IVF).
  int nprobe_for(const AnnSearchParams& p) const;
  // The search parameter reports name for this index and `p`: {"nprobe", nprobe_for(p)} for
  // IVF-flat, {"ef_search", p.ef_search} for HNSW (eval's report, serving's /v1/model).
  std::pair<const char*, int> search_parameter(const AnnSearchParams& p) const;
  const AnnBuildOptions& options() const { return opts_; }
  uint32_t vectors_crc() const { return vectors_crc_; }  // CRC-32 (zlib) of all item bytes
  float mips_norm() const { return phi_; }               // HNSW: phi of the L2 reduction; 0 for IVF
  size_t memory_bytes() const;  // serialized Faiss index bytes (~ resident); makes a copy

 private:
  AnnIndex();
  std::unique_ptr<faiss::Index> index_;
  AnnBuildOptions opts_;
  int64_t items_ = 0;
  int64_t dim_ = 0;
  uint32_t vectors_crc_ = 0;
  float phi_ = 0.0f;
  // Faiss 1.7.3 sizes the HNSW candidate heap from the index's own hnsw.efSearch (max with k),
  // not from SearchParametersHNSW: search() sets it to the call's ef_search under the unique
  // lock when it differs, and searches run under the shared lock (see ann_index.cpp).
  std::unique_ptr<std::shared_mutex> ef_mutex_ = std::make_unique<std::shared_mutex>();
};

}  // namespace divrec::eval
