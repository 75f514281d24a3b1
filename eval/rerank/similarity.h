// Item-item similarity for re-ranking and diversity metrics: cosine of item vectors (inverse
// norms computed once, rows normalised as they are gathered, so no second copy of a catalog's
// vectors), Jaccard of category + attribute sets, or a precomputed dense matrix (small catalogs,
// tests). Rows against a candidate list are filled without allocation once warm.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::eval {

enum class SimilarityKind { kCosine, kJaccard, kPrecomputed };

// "cosine" or "jaccard" (--similarity); throws listing the valid names otherwise.
SimilarityKind parse_similarity_kind(const std::string& name);
const char* similarity_kind_name(SimilarityKind kind);

class ItemSimilarity {
 public:
  // Cosine of rows of vectors [num_items, dim] (row-major float32). A zero row has similarity 0
  // to every other item. Values in [-1, 1]. Throws on a non-finite value (naming item and dim).
  // This overload copies the vectors; shared_cosine() keeps a reference instead.
  static ItemSimilarity cosine(const float* vectors, int64_t num_items, int64_t dim);
  // The same without a copy: `vectors` (kept alive by the shared pointer, e.g. one that holds
  // the serving artifact's item-vector tensor) must not change afterwards. Only the inverse
  // norms ([num_items] floats) are stored.
  static ItemSimilarity shared_cosine(std::shared_ptr<const float> vectors, int64_t num_items,
                                      int64_t dim);
  // Writes item's raw vector (dim float32) to out; must be thread-safe and give the same values
  // on every call.
  using RowReader = std::function<void(int64_t item, float* out)>;
  // The same over vectors that are not stored row-major, e.g. serving's fp32 scoring panels
  // (model::ScoreTable::row), which are then the only copy of the catalog: reads each row once
  // here for the inverse norms, and again whenever a row is gathered. Same values, norms and
  // similarities as shared_cosine over the same vectors.
  static ItemSimilarity cosine_rows(RowReader read, int64_t num_items, int64_t dim);
  // Jaccard |A∩B| / |A∪B| of the sets {category} ∪ attributes (category and attribute ids are
  // separate token spaces). Items with empty sets have similarity 0 to others. Values in [0, 1].
  // Keeps a pointer to `items`, which must outlive this object.
  static ItemSimilarity jaccard(const data::ItemTable& items);
  // A dense symmetric [num_items, num_items] matrix, used as given (DPP needs it PSD).
  static ItemSimilarity precomputed(std::vector<float> matrix, int64_t num_items);

  SimilarityKind kind() const { return kind_; }
  int64_t num_items() const { return num_items_; }
  int64_t dim() const { return dim_; }  // cosine only, else 0
  // Cosine: whether some item has a zero vector (similarity 0 to others, 1 to itself).
  bool has_zero_vectors() const { return has_zero_vectors_; }
  // out[0..dim) = the item's L2-normalised vector, v[d] * (1 / |v|) in float (cosine only; zeros
  // for a zero vector).
  void normalised(int32_t item, float* out) const;

  // Similarity of two items; 1 when a == b.
  float operator()(int32_t a, int32_t b) const;
  // out[i] = sim(item, items[i]) for i < n (1 where items[i] == item).
  void row(int32_t item, const int32_t* items, int n, float* out) const;
  // Per-list preparation for candidate_row(): for cosine, the candidates' normalised vectors
  // gathered into `block` ([n, D], contiguous, so every later row streams from cache); nothing
  // for the other kinds.
  void gather(const int32_t* items, int n, std::vector<float>& block) const;
  // out[i] = sim(items[pos], items[i]) for i < n, bit-identical to row(items[pos], items, n, out),
  // given the block gather() filled for the same items.
  void candidate_row(int pos, const int32_t* items, int n, const float* block, float* out) const;
  // out[i * n + j] = sim(items[i], items[j]), n x n row-major.
  void matrix(const int32_t* items, int n, float* out) const;

 private:
  // inv_norm_ and has_zero_vectors_ from `vectors` ([I, D] row-major) or, when null, read_.
  void set_inv_norms(const float* vectors);

  SimilarityKind kind_ = SimilarityKind::kCosine;
  int64_t num_items_ = 0;
  int64_t dim_ = 0;
  std::shared_ptr<const float> vectors_;    // cosine: [I, D] as given, or null with read_
  RowReader read_;                          // cosine_rows
  std::vector<float> inv_norm_;             // cosine: [I], 0 for a zero vector
  std::vector<float> matrix_;               // precomputed: [I, I]
  const data::ItemTable* table_ = nullptr;  // jaccard
  bool has_zero_vectors_ = false;
};

}  // namespace divrec::eval
