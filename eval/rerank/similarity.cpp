// Item similarity: cosine via rows normalised on the fly and the vectorised block kernel, Jaccard
// by merging sorted attribute lists, or a precomputed matrix.
#include "eval/rerank/similarity.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "eval/rerank/kernels.h"
#include "eval/rerank/workspace.h"

namespace divrec::eval {

SimilarityKind parse_similarity_kind(const std::string& name) {
  if (name == "cosine") return SimilarityKind::kCosine;
  if (name == "jaccard") return SimilarityKind::kJaccard;
  DIVREC_FAIL("--similarity: unknown similarity '", name, "'; valid: cosine, jaccard");
}

const char* similarity_kind_name(SimilarityKind kind) {
  switch (kind) {
    case SimilarityKind::kCosine:
      return "cosine";
    case SimilarityKind::kJaccard:
      return "jaccard";
    case SimilarityKind::kPrecomputed:
      return "precomputed";
  }
  return "?";
}

namespace {

void check_cosine_shape(int64_t num_items, int64_t dim) {
  DIVREC_CHECK(num_items >= 0 && dim > 0,
               "cosine similarity needs item vectors [I, D] with D > 0, got [", num_items, ", ",
               dim, "]");
}

}  // namespace

ItemSimilarity ItemSimilarity::cosine(const float* vectors, int64_t num_items, int64_t dim) {
  check_cosine_shape(num_items, dim);
  auto copy = std::make_shared<std::vector<float>>(vectors, vectors + num_items * dim);
  return shared_cosine(std::shared_ptr<const float>(copy, copy->data()), num_items, dim);
}

void ItemSimilarity::set_inv_norms(const float* vectors) {
  // Each row's squared norm in double, d = 0..D-1 in order (~1 s for 10 M rows of 64).
  inv_norm_.resize(static_cast<size_t>(num_items_));
  std::vector<float> buf(static_cast<size_t>(dim_));
  for (int64_t i = 0; i < num_items_; ++i) {
    const float* v = vectors ? vectors + i * dim_ : buf.data();
    if (!vectors) read_(i, buf.data());
    double norm2 = 0;
    for (int64_t d = 0; d < dim_; ++d) {
      DIVREC_CHECK(std::isfinite(v[d]), "item vector ", i, " has a non-finite value at dim ", d);
      norm2 += static_cast<double>(v[d]) * v[d];
    }
    inv_norm_[i] = norm2 > 0 ? static_cast<float>(1.0 / std::sqrt(norm2)) : 0.f;
    has_zero_vectors_ = has_zero_vectors_ || norm2 == 0;
  }
}

ItemSimilarity ItemSimilarity::shared_cosine(std::shared_ptr<const float> vectors,
                                             int64_t num_items, int64_t dim) {
  check_cosine_shape(num_items, dim);
  ItemSimilarity s;
  s.kind_ = SimilarityKind::kCosine;
  s.num_items_ = num_items;
  s.dim_ = dim;
  s.set_inv_norms(vectors.get());
  s.vectors_ = std::move(vectors);
  return s;
}

ItemSimilarity ItemSimilarity::cosine_rows(RowReader read, int64_t num_items, int64_t dim) {
  check_cosine_shape(num_items, dim);
  DIVREC_CHECK(read != nullptr, "cosine_rows needs a row reader");
  ItemSimilarity s;
  s.kind_ = SimilarityKind::kCosine;
  s.num_items_ = num_items;
  s.dim_ = dim;
  s.read_ = std::move(read);
  s.set_inv_norms(nullptr);
  return s;
}

void ItemSimilarity::normalised(int32_t item, float* out) const {
  const float inv = inv_norm_[item];
  if (vectors_) {
    const float* v = vectors_.get() + static_cast<int64_t>(item) * dim_;
    for (int64_t d = 0; d < dim_; ++d) out[d] = v[d] * inv;
    return;
  }
  read_(item, out);
  for (int64_t d = 0; d < dim_; ++d) out[d] *= inv;
}

ItemSimilarity ItemSimilarity::jaccard(const data::ItemTable& items) {
  DIVREC_CHECK(static_cast<int64_t>(items.category.size()) == items.num_items,
               "jaccard similarity: item table category has ", items.category.size(),
               " entries for ", items.num_items, " items");
  DIVREC_CHECK(items.attr_offsets.empty() ||
                   static_cast<int64_t>(items.attr_offsets.size()) == items.num_items + 1,
               "jaccard similarity: attr_offsets has ", items.attr_offsets.size(),
               " entries, expected num_items + 1 = ", items.num_items + 1);
  ItemSimilarity s;
  s.kind_ = SimilarityKind::kJaccard;
  s.num_items_ = items.num_items;
  s.table_ = &items;
  return s;
}

ItemSimilarity ItemSimilarity::precomputed(std::vector<float> matrix, int64_t num_items) {
  DIVREC_CHECK(static_cast<int64_t>(matrix.size()) == num_items * num_items,
               "precomputed similarity: matrix has ", matrix.size(), " values for ", num_items,
               " items (expected I * I)");
  ItemSimilarity s;
  s.kind_ = SimilarityKind::kPrecomputed;
  s.num_items_ = num_items;
  s.matrix_ = std::move(matrix);
  return s;
}

namespace {

// Jaccard of {category} ∪ attributes of two items (a != b).
inline float jaccard_pair(const data::ItemTable& t, int32_t a, int32_t b) {
  int32_t ca = t.category.empty() ? -1 : t.category[a];
  int32_t cb = t.category.empty() ? -1 : t.category[b];
  int64_t inter = (ca >= 0 && ca == cb) ? 1 : 0;
  int64_t na = (ca >= 0) ? 1 : 0, nb = (cb >= 0) ? 1 : 0;
  if (!t.attr_offsets.empty()) {
    const int32_t* pa = t.attrs(a);
    const int32_t* pb = t.attrs(b);
    const int32_t* ea = pa + t.num_attrs(a);
    const int32_t* eb = pb + t.num_attrs(b);
    na += ea - pa;
    nb += eb - pb;
    while (pa < ea && pb < eb) {  // attribute lists are sorted per item (dataset.h)
      if (*pa < *pb) {
        ++pa;
      } else if (*pb < *pa) {
        ++pb;
      } else {
        ++inter;
        ++pa;
        ++pb;
      }
    }
  }
  int64_t uni = na + nb - inter;
  return uni > 0 ? static_cast<float>(static_cast<double>(inter) / static_cast<double>(uni)) : 0.f;
}

}  // namespace

float ItemSimilarity::operator()(int32_t a, int32_t b) const {
  if (a == b) return 1.f;
  switch (kind_) {
    case SimilarityKind::kCosine: {  // the row kernel, so pairs and rows agree bit for bit
      float s = 0;
      const int32_t pair[2] = {a, b};
      thread_local std::vector<float> block;
      gather(pair, 2, block);
      kernels::dot_block(block.data(), block.data() + dim_, dim_, 1, &s);
      return s;
    }
    case SimilarityKind::kJaccard:
      return jaccard_pair(*table_, a, b);
    case SimilarityKind::kPrecomputed:
      return matrix_[static_cast<size_t>(a * num_items_ + b)];
  }
  return 0.f;
}

void ItemSimilarity::row(int32_t item, const int32_t* items, int n, float* out) const {
  switch (kind_) {
    case SimilarityKind::kCosine: {
      // [item, items...] normalised into one block: the same values candidate_row() reads.
      thread_local std::vector<float> block;
      float* b = grow(block, static_cast<size_t>(n + 1) * static_cast<size_t>(dim_));
      normalised(item, b);
      for (int i = 0; i < n; ++i) normalised(items[i], b + static_cast<int64_t>(i + 1) * dim_);
      kernels::dot_block(b, b + dim_, dim_, n, out);
      kernels::set_where_equal(items, item, 1.f, out, n);  // also for zero vectors
      break;
    }
    case SimilarityKind::kJaccard:
      for (int i = 0; i < n; ++i) {
        out[i] = items[i] == item ? 1.f : jaccard_pair(*table_, item, items[i]);
      }
      break;
    case SimilarityKind::kPrecomputed: {
      const float* m = matrix_.data() + static_cast<int64_t>(item) * num_items_;
      for (int i = 0; i < n; ++i) out[i] = items[i] == item ? 1.f : m[items[i]];
      break;
    }
  }
}

void ItemSimilarity::gather(const int32_t* items, int n, std::vector<float>& block) const {
  if (kind_ != SimilarityKind::kCosine) return;
  float* out = grow(block, static_cast<size_t>(std::max(n, 1)) * static_cast<size_t>(dim_));
  for (int i = 0; i < n; ++i) normalised(items[i], out + static_cast<int64_t>(i) * dim_);
}

void ItemSimilarity::candidate_row(int pos, const int32_t* items, int n, const float* block,
                                   float* out) const {
  if (kind_ != SimilarityKind::kCosine) {
    row(items[pos], items, n, out);
    return;
  }
  kernels::dot_block(block + static_cast<int64_t>(pos) * dim_, block, dim_, n, out);
  kernels::set_where_equal(items, items[pos], 1.f, out, n);
}

void ItemSimilarity::matrix(const int32_t* items, int n, float* out) const {
  for (int i = 0; i < n; ++i) row(items[i], items, n, out + static_cast<int64_t>(i) * n);
}

}  // namespace divrec::eval
