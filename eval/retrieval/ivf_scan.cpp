// IVF-flat search with divrec's inner-product kernels (see ivf_scan.h).
#include "eval/retrieval/ivf_scan.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "core/check.h"
#include "eval/rerank/kernels.h"

namespace divrec::eval {
namespace {

constexpr int64_t kChunk = 1024;  // rows scored per kernel call (a 4 KiB score buffer)

using Hit = std::pair<float, int64_t>;  // (inner product, item id)

// a ranks before b: higher score, then lower id.
bool better(const Hit& a, const Hit& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

// Running top-k: a heap whose front is the worst kept hit.
class TopK {
 public:
  explicit TopK(int64_t k) : k_(static_cast<size_t>(k)) {}
  void clear() { heap_.clear(); }
  void push(float score, int64_t id) {
    if (std::isnan(score)) return;
    if (heap_.size() < k_) {
      heap_.emplace_back(score, id);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(Hit{score, id}, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = Hit{score, id};
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  // Lowest score that can still enter (-inf until k hits are kept).
  float bar() const {
    return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().first;
  }
  void write(float* scores, int64_t* ids) {
    std::sort_heap(heap_.begin(), heap_.end(), better);  // best first
    for (size_t j = 0; j < k_; ++j) {
      const bool have = j < heap_.size();
      scores[j] = have ? heap_[j].first : -std::numeric_limits<float>::infinity();
      ids[j] = have ? heap_[j].second : -1;
    }
  }

 private:
  size_t k_;
  std::vector<Hit> heap_;
};

}  // namespace

void ivf_flat_search(const faiss::IndexIVFFlat& index, const float* users, int64_t batch, int64_t k,
                     int nprobe, float* scores, int64_t* ids) {
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index.quantizer);
  DIVREC_CHECK_HINT(flat != nullptr && flat->metric_type == faiss::METRIC_INNER_PRODUCT &&
                        index.metric_type == faiss::METRIC_INNER_PRODUCT,
                    "rebuild the index with divrec (AnnIndex::build)",
                    "IVF-flat search: expected an inner-product index with a flat inner-product "
                    "quantizer");
  const int64_t d = index.d;
  const auto nlist = static_cast<int64_t>(index.nlist);
  const int64_t probes = std::clamp<int64_t>(nprobe, 1, nlist);
  const float* centroids = flat->get_xb();
  std::exception_ptr error;
#pragma omp parallel if (batch > 1)
  {
    std::vector<float> centroid_score, chunk;
    std::vector<int64_t> lists;
    TopK top(k);
#pragma omp for schedule(guided)
    for (int64_t b = 0; b < batch; ++b) {
      try {
        if (chunk.empty()) {  // here, not before the loop: a failed allocation must reach the catch
          centroid_score.resize(static_cast<size_t>(nlist));
          lists.resize(static_cast<size_t>(nlist));
          chunk.resize(kChunk);
        }
        const float* q = users + b * d;
        for (int64_t c0 = 0; c0 < nlist; c0 += kChunk) {
          kernels::dot_block(q, centroids + c0 * d, d,
                             static_cast<int>(std::min(kChunk, nlist - c0)),
                             centroid_score.data() + c0);
        }
        for (float& c : centroid_score) {  // a NaN would break the strict order of the sort
          if (std::isnan(c)) c = -std::numeric_limits<float>::infinity();
        }
        std::iota(lists.begin(), lists.end(), 0);
        std::partial_sort(lists.begin(), lists.begin() + probes, lists.end(),
                          [&](int64_t x, int64_t y) {
                            return better(Hit{centroid_score[x], x}, Hit{centroid_score[y], y});
                          });
        top.clear();
        for (int64_t j = 0; j < probes; ++j) {
          const auto list = static_cast<size_t>(lists[j]);
          const size_t n = index.invlists->list_size(list);
          if (n == 0) continue;
          faiss::InvertedLists::ScopedCodes codes(index.invlists, list);
          faiss::InvertedLists::ScopedIds list_ids(index.invlists, list);
          const auto* x = reinterpret_cast<const float*>(codes.get());
          for (size_t r0 = 0; r0 < n; r0 += kChunk) {
            const auto m = static_cast<int>(std::min<size_t>(kChunk, n - r0));
            kernels::dot_block(q, x + r0 * d, d, m, chunk.data());
            const float bar = top.bar();
            for (int r = 0; r < m; ++r) {
              if (chunk[r] >= bar) top.push(chunk[r], list_ids[r0 + r]);
            }
          }
        }
        top.write(scores + b * k, ids + b * k);
      } catch (...) {
#pragma omp critical(divrec_ivf_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace divrec::eval
