// Exact catalog scoring with a fused running top-N: user vectors [B, D] against the item matrix
// [I, D] (fp32, or a bf16 copy), cache-sized item blocks, per-user top-N buffers; no [B, I]
// matrix. Every (user, item) score is one accumulator summed over d = 0..D-1 in order with fused
// multiply-add, whatever B, block sizes, threads or ISA: eval and serving get the same bits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace divrec::model {

// How the item matrix is stored. kBf16: each value rounded to nearest-even bf16 at load (half the
// memory and bandwidth), widened back to fp32 exactly when scored, then the same FMA order as
// kFp32 -- deterministic on every ISA, but scores (and so lists) differ from fp32's.
enum class ScorePrecision { kFp32, kBf16 };
// "fp32" | "bf16"; throws naming `option` (e.g. "--score-precision") otherwise.
ScorePrecision parse_score_precision(const std::string& name, const std::string& option);
const char* score_precision_name(ScorePrecision p);

// Instruction set of the inner loop. All give bit-identical scores (FMA is exactly rounded).
enum class ScoreIsa { kAuto, kScalar, kAvx2, kAvx512 };
bool score_isa_supported(ScoreIsa isa);  // kAuto and kScalar: always
// What kAuto runs: the widest supported; DIVREC_SCORE_ISA=scalar|avx2|avx512 caps it.
ScoreIsa best_score_isa();
const char* score_isa_name(ScoreIsa isa);

// Items per panel: a panel holds 32 consecutive items re-laid out as [D][32] (two AVX-512 or
// four AVX2 vectors per d), so one load feeds 32 items; the last panel is zero-padded.
inline constexpr int64_t kScorePanel = 32;

// The item matrix re-laid out once for scoring: ceil(I / 32) panels of [D][32] values, 64-byte
// aligned. Immutable; shareable between threads.
class ScoreTable {
 public:
  ScoreTable() = default;
  // items: [num_items, dim] float32 row-major (model.item_vectors() or the artifact's copy).
  ScoreTable(const float* items, int64_t num_items, int64_t dim, ScorePrecision precision);

  int64_t num_items() const { return num_items_; }
  int64_t dim() const { return dim_; }
  int64_t num_panels() const { return (num_items_ + kScorePanel - 1) / kScorePanel; }
  ScorePrecision precision() const { return precision_; }
  const float* f32() const { return static_cast<const float*>(data_.get()); }         // kFp32
  const uint16_t* bf16() const { return static_cast<const uint16_t*>(data_.get()); }  // kBf16
  size_t bytes() const { return bytes_; }
  // out[0..dim) = item's row as stored: for kFp32 the exact float32 values the table was built
  // from (so a caller may keep no other copy), for kBf16 the rounded values widened. Throws for an
  // item outside [0, num_items).
  void row(int64_t item, float* out) const;

 private:
  struct Free {
    void operator()(void* p) const;
  };
  int64_t num_items_ = 0;
  int64_t dim_ = 0;
  ScorePrecision precision_ = ScorePrecision::kFp32;
  size_t bytes_ = 0;
  std::shared_ptr<void> data_;
};

// Items a user must never get back (its history). Any order, duplicates allowed; ids outside
// [0, I) are ignored.
struct ExcludeList {
  const int32_t* ids = nullptr;
  int64_t n = 0;
};

struct ScoreOptions {
  int64_t user_block = 64;    // users sharing one sweep over the items (cache reuse of items)
  int64_t item_block = 1024;  // items per cache block (rounded up to whole panels)
  int threads = 1;            // user ranges run on torch's intra-op pool
  ScoreIsa isa = ScoreIsa::kAuto;
};

// Per-user results, row b at [b * n, b * n + count[b]): items by score descending, equal scores
// by LOWER item id; count[b] = min(n, I - distinct excluded ids). Scores that are NaN are never
// returned (a NaN fails every comparison).
struct TopN {
  int64_t n = 0;
  std::vector<int32_t> items;  // [B * n]
  std::vector<float> scores;   // [B * n]
  std::vector<int> count;      // [B]
};

// users: [B, D] float32 row-major (D = table.dim()); exclude: B lists (null = none). Throws on
// bad sizes (user_block / item_block / threads < 1, an unsupported isa). The result (ids and
// score bits) does not depend on options.
void score_top_n(const ScoreTable& table, const float* users, int64_t B, int64_t n,
                 const ExcludeList* exclude, const ScoreOptions& options, TopN& out);

}  // namespace divrec::model
