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
#include <vector>

#include "core/check.h"
#include "eval/rerank/kernels.h"
#include "trainer/model/running_top.h"

namespace divrec::eval {
namespace {

constexpr int64_t kChunk = 1024;  // rows scored per kernel call (a 4 KiB score buffer)

// Writes the kept hits best first into scores / ids [k], then -inf / -1 (the heap is consumed).
void write_top(model::RunningTopN& top, int64_t k, float* scores, int64_t* ids) {
  std::sort_heap(top.heap.begin(), top.heap.end(), model::ranks_before);
  for (size_t j = 0; j < static_cast<size_t>(k); ++j) {
    const bool have = j < top.heap.size();
    scores[j] = have ? top.heap[j].score : -std::numeric_limits<float>::infinity();
    ids[j] = have ? top.heap[j].item : -1;
  }
}

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
    model::RunningTopN top;
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
        std::partial_sort(
            lists.begin(), lists.begin() + probes, lists.end(), [&](int64_t x, int64_t y) {
              return model::ranks_before({centroid_score[x], static_cast<int32_t>(x)},
                                         {centroid_score[y], static_cast<int32_t>(y)});
            });
        top.heap.clear();
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
            const float bar = top.threshold(k);
            for (int r = 0; r < m; ++r) {  // ids < 2^31: AnnIndex refuses larger catalogs
              if (chunk[r] >= bar) top.offer({chunk[r], static_cast<int32_t>(list_ids[r0 + r])}, k);
            }
          }
        }
        write_top(top, k, scores + b * k, ids + b * k);
      } catch (...) {
#pragma omp critical(divrec_ivf_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace divrec::eval
