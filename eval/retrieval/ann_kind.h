// ANN index kinds (HNSW, IVF-flat) by name, and the automatic choices: which kind a catalog of a
// given size gets, and how many IVF lists a search probes when the caller does not say. The
// thresholds are measured ones (docs/results.md "ANN serving at 10 M items").
#pragma once

#include <cstdint>
#include <string>

namespace divrec::eval {

// kAuto is a build request only (never stored): AnnIndex::build resolves it by catalog size.
enum class AnnKind : uint32_t { kAuto = 0, kHnsw = 1, kIvfFlat = 2 };

// kAuto builds IVF-flat from this many items on, HNSW below. Measured (docs/results.md, 2 cores,
// dim 64, recall@200 >= 0.95): at 1 M items IVF-flat (divrec's list scan) p99 2.1-2.6 ms against
// HNSW M 16 (ef 320-384) at 4.9-7.0 ms; at 10 M IVF 7.0 ms while HNSW reached recall 0.82 after
// a 2.5 h build. Below 1 M the exact scan costs ~1 ms, and HNSW's recall needs no nprobe tuning.
inline constexpr int64_t kIvfAutoMinItems = 1'000'000;

// "auto", "hnsw" or "ivf-flat" (or "ivf"); throws listing the valid names otherwise.
AnnKind parse_ann_kind(const std::string& name);
const char* ann_kind_name(AnnKind kind);
// kAuto -> kIvfFlat when items >= kIvfAutoMinItems, else kHnsw; other kinds unchanged.
AnnKind resolve_ann_kind(AnnKind kind, int64_t items);
// IVF lists probed when AnnSearchParams::nprobe is 0: 1 % of nlist rounded up, at least
// min(16, nlist). Measured recall@200 / p99 on one core (docs/results.md, the acceptance run):
// 0.972 / 7.9 ms at 10 M items (127 of 12,649 lists); 0.954 / 2.9 ms at 1 M (40 of 4,000).
int auto_nprobe(int nlist);

}  // namespace divrec::eval
