// IVF-flat search with divrec's SIMD inner products (eval/rerank/kernels.h) over a Faiss
// IndexIVFFlat's coarse centroids and inverted lists. Debian's libfaiss 1.7.3 is compiled for
// baseline x86-64, so its own scan multiplies one float at a time; training, list layout,
// appends and the file format stay Faiss's.
#pragma once

#include <cstdint>

namespace faiss {
struct IndexIVFFlat;
}

namespace divrec::eval {

// Top-k items by inner product for users [batch, d] (row-major float32, d = index.d) among the
// items of the min(nprobe, nlist) lists whose centroids have the largest inner product with the
// user (equal centroid scores: lower list id). Writes scores and ids [batch, k], best first,
// equal scores by lower item id; past the items the probed lists hold, ids are -1 and scores
// -inf; NaN scores are skipped (NaN centroid scores rank last). What faiss::IndexIVFFlat::search
// returns with this nprobe up to float rounding, which can matter only at near-ties: a centroid
// tied at the nprobe cut may be probed instead of its twin (Faiss scores centroids with BLAS for
// 20+ queries), an item tied at the k-th place is kept by lower id here and by scan order in
// Faiss (tested on planted clusters). OpenMP over users when batch > 1 (the caller sets the team
// size). Throws divrec::Error when the quantizer is not a flat inner-product index or the index
// is not inner product.
void ivf_flat_search(const faiss::IndexIVFFlat& index, const float* users, int64_t batch, int64_t k,
                     int nprobe, float* scores, int64_t* ids);

}  // namespace divrec::eval
