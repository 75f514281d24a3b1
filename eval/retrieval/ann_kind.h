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
// dim 64, recall@200 >= 0.95): at 1 M items IVF-flat (divrec's list scan) p99 2.1-2.9 ms against
// HNSW M 16 (ef 320-384) at 4.9-7.0 ms; at 10 M IVF 6-8 ms while HNSW reached recall 0.82 after
// a 2.5 h build. Between 200,000 items (where --retrieval auto turns ANN on) and 1 M the two were
// not compared; HNSW stays there, the kind divrec served first (0.95+ at ef 384-512).
inline constexpr int64_t kIvfAutoMinItems = 1'000'000;

// "auto", "hnsw" or "ivf-flat" (or "ivf"); throws listing the valid names otherwise.
AnnKind parse_ann_kind(const std::string& name);
// "auto", "hnsw" or "ivf-flat" ("unknown" for a value outside the enum).
const char* ann_kind_name(AnnKind kind);
// kAuto -> kIvfFlat when items >= kIvfAutoMinItems, else kHnsw; other kinds unchanged.
AnnKind resolve_ann_kind(AnnKind kind, int64_t items);
// IVF lists probed when AnnSearchParams::nprobe is 0: ceil(sqrt(nlist)), at least 16, at most
// nlist. With the default nlist = 4 sqrt(I) that is 64 of 4,000 lists at 1 M items (measured
// recall@200 0.988, p99 2.6-3.7 ms on one core) and 113 of 12,649 at 10 M (0.9645, p99 7.35 ms);
// docs/results.md. A fixed share of the lists (1 %: 40 at 1 M, recall 0.954) left 1 M at the
// edge. Throws for nlist < 1.
int auto_nprobe(int nlist);

}  // namespace divrec::eval
