// AnnIndex: Faiss HNSW-flat / IVF-flat with inner product, per-call search parameters, OpenMP
// thread policy per call, and the divrec index file (header + faiss::write_index payload).
#include "eval/retrieval/ann_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/Heap.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <random>

#include "core/check.h"
#include "core/fs.h"
#include "eval/retrieval/ann_file.h"
#include "eval/retrieval/ivf_scan.h"

namespace divrec::eval {
namespace {

// Sets the calling thread's OpenMP team size for one Faiss call and restores it. nthreads-var is
// a per-thread ICV, so concurrent request threads do not see each other's setting.
class OmpThreads {
 public:
  explicit OmpThreads(int n) : prev_(omp_get_max_threads()), active_(n > 0) {
    if (active_) omp_set_num_threads(n);
  }
  ~OmpThreads() {
    if (active_) omp_set_num_threads(prev_);
  }

 private:
  int prev_;
  bool active_;
};

uint32_t crc_of(const float* x, int64_t n, int64_t d, uint32_t seed) {
  return core::crc32_bytes(x, static_cast<size_t>(n) * d * sizeof(float), seed);
}

// Largest row norm of x [n, d].
float max_norm(const float* x, int64_t n, int64_t d) {
  double best = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(x[i * d + j]) * x[i * d + j];
    best = std::max(best, s);
  }
  return static_cast<float>(std::sqrt(best));
}

// Adds x [n, d] to an L2 index of dimension d + 1 as [x, sqrt(phi^2 - |x|^2)], in blocks so the
// augmented copy stays small. Throws naming the first row whose norm exceeds phi.
void add_augmented(faiss::Index* index, const float* x, int64_t n, int64_t d, float phi,
                   int64_t first_id) {
  auto sq_norm = [&](int64_t i) {
    double s = 0.0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(x[i * d + j]) * x[i * d + j];
    return s;
  };
  for (int64_t i = 0; i < n; ++i) {  // all rows first: a refused add leaves the index unchanged
    DIVREC_CHECK_HINT(std::sqrt(sq_norm(i)) <= phi * (1.0 + 1e-6),
                      "rebuild the index over all items, or build with a larger mips_headroom",
                      "ANN add: item ", first_id + i, " has norm ", std::sqrt(sq_norm(i)),
                      ", above the index's bound phi=", phi);
  }
  constexpr int64_t kBlock = 65536;
  std::vector<float> aug;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    int64_t m = std::min(kBlock, n - b0);
    aug.assign(static_cast<size_t>(m) * (d + 1), 0.0f);
    for (int64_t i = 0; i < m; ++i) {
      const float* row = x + (b0 + i) * d;
      double s = sq_norm(b0 + i);
      std::copy_n(row, d, aug.data() + i * (d + 1));
      aug[i * (d + 1) + d] = static_cast<float>(std::sqrt(std::max(0.0, double(phi) * phi - s)));
    }
    index->add(m, aug.data());
  }
}

// The calling thread's HNSW visited table, at least n entries, reused by every search on this
// thread. Faiss 1.7.3's IndexHNSW::search allocates and zeroes an I-byte table per call: at 10 M
// items that 10 MB memset was 19 % of a served request's CPU time (perf, docs/serving.md).
// HNSW::search ends with VisitedTable::advance(), which makes its marks stale (and zeroes the
// table only once per 249 searches), as IndexHNSW::search relies on between a batch's queries.
// Memory: every thread that ever searched keeps a table of the largest index it searched (request
// threads and OpenMP workers: threads x I bytes, e.g. 16 x 10 MB at 10 M items).
faiss::VisitedTable& thread_visited_table(int64_t n) {
  thread_local std::unique_ptr<faiss::VisitedTable> table;
  if (!table || static_cast<int64_t>(table->visited.size()) < n) {
    table = std::make_unique<faiss::VisitedTable>(static_cast<int>(n));
  }
  return *table;
}

// IndexHNSW::search's per-query loop (Faiss 1.7.3: heapify, HNSW::search, reorder) over the
// augmented queries aug [batch, d + 1], with the thread's reused visited table; OpenMP over
// queries when batch > 1. Writes L2 distances and ids [batch, k]; rethrows a Faiss error.
void hnsw_search(const faiss::IndexHNSWFlat& index, const float* aug, int64_t batch, int64_t k,
                 const faiss::SearchParametersHNSW& sp, float* dist, int64_t* ids) {
  const int64_t d = index.d;
  std::exception_ptr error;
#pragma omp parallel if (batch > 1)
  {
    std::unique_ptr<faiss::DistanceComputer> dis;
    faiss::VisitedTable* vt = nullptr;
#pragma omp for schedule(guided)
    for (int64_t b = 0; b < batch; ++b) {
      try {
        if (!dis) {  // here, not before the loop: a failed allocation must reach the catch
          vt = &thread_visited_table(index.ntotal);
          dis.reset(index.storage->get_distance_computer());
        }
        float* D = dist + b * k;
        int64_t* I = ids + b * k;
        dis->set_query(aug + b * d);
        faiss::maxheap_heapify(k, D, I);
        index.hnsw.search(*dis, static_cast<int>(k), I, D, *vt, &sp);
        faiss::maxheap_reorder(k, D, I);
      } catch (...) {
        if (vt) vt->advance();  // HNSW::search advances it when it returns; a failed one may not
#pragma omp critical(divrec_ann_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

int default_nlist(int64_t n) {
  int64_t nl = std::llround(4.0 * std::sqrt(static_cast<double>(n)));
  return static_cast<int>(std::clamp<int64_t>(nl, 1, n));
}

}  // namespace

int AnnIndex::nprobe_for(const AnnSearchParams& p) const {
  if (opts_.kind != AnnKind::kIvfFlat) return 0;
  DIVREC_CHECK_HINT(p.nprobe >= 0, "typical nprobe: 8-128, or 0 for sqrt(nlist)",
                    "ANN search: nprobe=", p.nprobe);
  return p.nprobe == 0 ? auto_nprobe(opts_.ivf_nlist) : std::min(p.nprobe, opts_.ivf_nlist);
}

std::pair<const char*, int> AnnIndex::search_parameter(const AnnSearchParams& p) const {
  if (opts_.kind == AnnKind::kIvfFlat) return {"nprobe", nprobe_for(p)};
  return {"ef_search", p.ef_search};
}

AnnIndex::AnnIndex() = default;
AnnIndex::AnnIndex(AnnIndex&&) noexcept = default;
AnnIndex& AnnIndex::operator=(AnnIndex&&) noexcept = default;
AnnIndex::~AnnIndex() = default;

AnnIndex AnnIndex::build(const float* items, int64_t n, int64_t d, const AnnBuildOptions& opts) {
  DIVREC_CHECK_HINT(n >= 1 && d >= 1 && items != nullptr, "pass the item vectors [I, D]",
                    "ANN build needs at least one item and dimension, got [", n, ", ", d, "]");
  DIVREC_CHECK_HINT(n < (int64_t{1} << 31), "Faiss HNSW stores 32-bit item ids", "ANN build: ", n,
                    " items is more than 2^31 - 1");
  AnnIndex out;
  out.opts_ = opts;
  out.opts_.kind = resolve_ann_kind(opts.kind, n);
  out.dim_ = d;
  OmpThreads threads(opts.build_threads);
  try {
    if (out.opts_.kind == AnnKind::kHnsw) {
      DIVREC_CHECK_HINT(opts.hnsw_m >= 2 && opts.ef_construction >= 1,
                        "typical values: M 16-48, efConstruction 100-400",
                        "ANN build: invalid HNSW M=", opts.hnsw_m,
                        " efConstruction=", opts.ef_construction);
      DIVREC_CHECK_HINT(opts.mips_headroom >= 1.0f, "use a headroom >= 1 (default 1.25)",
                        "ANN build: mips_headroom=", opts.mips_headroom);
      out.phi_ = std::max(max_norm(items, n, d), 1e-12f) * opts.mips_headroom;
      auto idx = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d + 1), opts.hnsw_m,
                                                        faiss::METRIC_L2);
      idx->hnsw.efConstruction = opts.ef_construction;
      out.index_ = std::move(idx);
      add_augmented(out.index_.get(), items, n, d, out.phi_, 0);
    } else {
      int nlist = opts.ivf_nlist > 0 ? opts.ivf_nlist : default_nlist(n);
      DIVREC_CHECK_HINT(nlist <= n, "use at most one list per item (or --ivf-nlist 0 for auto)",
                        "ANN build: ivf_nlist=", nlist, " exceeds the ", n, " items");
      out.opts_.ivf_nlist = nlist;
      auto quantizer = std::make_unique<faiss::IndexFlatIP>(d);
      auto idx = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), d, nlist,
                                                       faiss::METRIC_INNER_PRODUCT);
      idx->own_fields = true;
      quantizer.release();
      // Train the coarse centroids on a seeded sample (all items when the catalog is small).
      int64_t m = std::min<int64_t>(n, std::max<int64_t>(opts.ivf_train_sample, nlist));
      std::vector<float> sample(static_cast<size_t>(m) * d);
      std::vector<int64_t> rows(n);
      std::iota(rows.begin(), rows.end(), 0);
      if (m < n) {
        std::mt19937_64 rng(opts.seed);
        for (int64_t i = 0; i < m; ++i) {  // partial Fisher-Yates: first m rows are the sample
          std::uniform_int_distribution<int64_t> pick(i, n - 1);
          std::swap(rows[i], rows[pick(rng)]);
        }
      }
      for (int64_t i = 0; i < m; ++i) {
        std::copy_n(items + rows[i] * d, d, sample.data() + i * d);
      }
      idx->train(m, sample.data());
      idx->add(n, items);
      out.index_ = std::move(idx);
    }
  } catch (const faiss::FaissException& e) {
    DIVREC_FAIL("ANN build (", ann_kind_name(out.opts_.kind), ", [", n, ", ", d,
                "]) failed in Faiss: ", e.what());
  }
  out.items_ = n;
  out.vectors_crc_ = crc_of(items, n, d, 0);
  return out;
}

AnnHits AnnIndex::search(const float* users, int64_t batch, int64_t k,
                         const AnnSearchParams& p) const {
  DIVREC_CHECK_HINT(k >= 1 && k <= items_, "ask for at most as many items as the index holds",
                    "ANN search: k=", k, " with ", items_, " items");
  DIVREC_CHECK(batch >= 0 && (batch == 0 || users != nullptr), "ANN search: batch=", batch);
  AnnHits hits;
  hits.batch = batch;
  hits.k = k;
  hits.ids.assign(static_cast<size_t>(batch * k), -1);
  hits.scores.assign(static_cast<size_t>(batch * k), 0.0f);
  if (batch == 0) return hits;
  OmpThreads threads(std::max(1, p.threads));
  try {
    if (opts_.kind == AnnKind::kHnsw) {
      DIVREC_CHECK_HINT(p.ef_search >= 1, "typical efSearch: 64-512",
                        "ANN search: ef_search=", p.ef_search);
      faiss::SearchParametersHNSW sp;
      sp.efSearch = p.ef_search;
      // Queries [q, 0]: |[q,0] - [x,t]|^2 = |q|^2 + phi^2 - 2 q.x, so the L2 order is the
      // inner-product order and q.x = (|q|^2 + phi^2 - dist) / 2.
      std::vector<float> aug(static_cast<size_t>(batch) * (dim_ + 1), 0.0f);
      std::vector<double> qn(batch, 0.0);
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t j = 0; j < dim_; ++j) {
          float v = users[b * dim_ + j];
          aug[b * (dim_ + 1) + j] = v;
          qn[b] += static_cast<double>(v) * v;
        }
      }
      // Faiss 1.7.3's HNSW::search sizes its candidate heap as max(hnsw.efSearch, k) from the
      // index, and only the stopping rule reads sp.efSearch: without this, ef_search above
      // max(16, k) changed nothing (recall stuck at 0.89 for ef 256 and 512). The index's value
      // is switched only under the unique lock, i.e. with no search in flight; callers that
      // keep one ef_search (serving) only ever take the shared lock.
      auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(index_.get());
      std::shared_lock<std::shared_mutex> shared(*ef_mutex_);
      while (hnsw->hnsw.efSearch != p.ef_search) {
        shared.unlock();
        {
          std::unique_lock<std::shared_mutex> unique(*ef_mutex_);
          hnsw->hnsw.efSearch = p.ef_search;
        }
        shared.lock();  // another caller may have switched it again: check once more
      }
      hnsw_search(*hnsw, aug.data(), batch, k, sp, hits.scores.data(), hits.ids.data());
      shared.unlock();
      double phi2 = static_cast<double>(phi_) * phi_;
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t j = 0; j < k; ++j) {
          float& sc = hits.scores[b * k + j];
          sc = static_cast<float>((qn[b] + phi2 - sc) / 2.0);
        }
      }
    } else {
      const int nprobe = nprobe_for(p);
      if (p.ivf_scan == IvfScan::kDivrec) {
        ivf_flat_search(static_cast<const faiss::IndexIVFFlat&>(*index_), users, batch, k, nprobe,
                        hits.scores.data(), hits.ids.data());
      } else {
        faiss::SearchParametersIVF sp;
        sp.nprobe = static_cast<size_t>(nprobe);
        index_->search(batch, users, k, hits.scores.data(), hits.ids.data(), &sp);
      }
    }
  } catch (const faiss::FaissException& e) {
    DIVREC_FAIL("ANN search failed in Faiss: ", e.what());
  }
  return hits;
}

void AnnIndex::add(const float* items, int64_t n, int64_t d) {
  DIVREC_CHECK_HINT(d == dim_, "new item vectors must have the index's dimension",
                    "ANN add: vectors of dimension ", d, ", index has dimension ", dim_);
  DIVREC_CHECK_HINT(items_ + n < (int64_t{1} << 31), "Faiss HNSW stores 32-bit item ids",
                    "ANN add: ", items_ + n, " items is more than 2^31 - 1");
  if (n <= 0) return;
  OmpThreads threads(opts_.build_threads);
  try {
    if (opts_.kind == AnnKind::kHnsw) {
      add_augmented(index_.get(), items, n, d, phi_, items_);
    } else {
      index_->add(n, items);
    }
  } catch (const faiss::FaissException& e) {
    DIVREC_FAIL("ANN add of ", n, " items failed in Faiss: ", e.what());
  }
  items_ += n;
  vectors_crc_ = crc_of(items, n, d, vectors_crc_);
}

size_t AnnIndex::memory_bytes() const {
  faiss::VectorIOWriter w;
  faiss::write_index(index_.get(), &w);
  return w.data.size();
}

void AnnIndex::save(const std::string& path) const {
  faiss::VectorIOWriter w;
  try {
    faiss::write_index(index_.get(), &w);
  } catch (const faiss::FaissException& e) {
    DIVREC_FAIL("ANN save to ", path, ": Faiss could not serialize the index: ", e.what());
  }
  AnnFileHeader h = make_ann_header(opts_, items_, dim_, vectors_crc_, phi_, w.data);
  write_ann_file(path, h, w.data);
}

AnnIndex AnnIndex::load(const std::string& path) {
  std::vector<uint8_t> payload;
  AnnFileHeader h = read_ann_file(path, &payload);
  AnnIndex out;
  out.opts_ = header_options(h);
  out.items_ = h.items;
  out.dim_ = h.dim;
  out.vectors_crc_ = h.vectors_crc;
  out.phi_ = h.mips_norm;
  faiss::VectorIOReader r;
  r.data = std::move(payload);
  try {
    out.index_.reset(faiss::read_index(&r));
  } catch (const faiss::FaissException& e) {
    DIVREC_CHECK_HINT(false, "rebuild the index (the divrec header and checksum are intact)",
                      "ANN index ", path, ": Faiss could not read the payload: ", e.what());
  }
  // HNSW: L2 over D + 1 augmented dimensions; IVF-flat: inner product over D.
  bool hnsw = h.kind == static_cast<uint32_t>(AnnKind::kHnsw);
  bool kind_ok = hnsw ? dynamic_cast<faiss::IndexHNSWFlat*>(out.index_.get()) != nullptr
                      : dynamic_cast<faiss::IndexIVFFlat*>(out.index_.get()) != nullptr;
  int64_t want_d = hnsw ? h.dim + 1 : h.dim;
  auto want_metric = hnsw ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  DIVREC_CHECK_HINT(kind_ok && out.index_->ntotal == h.items && out.index_->d == want_d &&
                        out.index_->metric_type == want_metric && (!hnsw || out.phi_ > 0.0f),
                    "rebuild the index", "ANN index ", path, ": header says ",
                    ann_kind_name(out.opts_.kind), " [", h.items, ", ", h.dim,
                    "], Faiss payload holds [", out.index_->ntotal, ", ", out.index_->d,
                    "] metric ", static_cast<int>(out.index_->metric_type));
  return out;
}

AnnIndex AnnIndex::load(const std::string& path, const float* items, int64_t n, int64_t d) {
  AnnIndex out = load(path);
  DIVREC_CHECK_HINT(out.dim_ == d, "rebuild the index from the current item vectors", "ANN index ",
                    path, " has dimension ", out.dim_, ", expected ", d);
  DIVREC_CHECK_HINT(out.items_ == n, "rebuild the index from the current item vectors",
                    "ANN index ", path, " holds ", out.items_, " items, expected ", n);
  uint32_t crc = crc_of(items, n, d, 0);
  DIVREC_CHECK_HINT(out.vectors_crc_ == crc, "rebuild the index from the current item vectors",
                    "ANN index ", path, " was built from other item vectors: vectors CRC-32 ",
                    out.vectors_crc_, " in the file, ", crc, " expected");
  return out;
}

}  // namespace divrec::eval
