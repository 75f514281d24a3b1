// ANN index kinds and automatic choices (see ann_kind.h).
#include "eval/retrieval/ann_kind.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace divrec::eval {

AnnKind parse_ann_kind(const std::string& name) {
  if (name == "auto") return AnnKind::kAuto;
  if (name == "hnsw") return AnnKind::kHnsw;
  if (name == "ivf-flat" || name == "ivf") return AnnKind::kIvfFlat;
  DIVREC_CHECK_HINT(false, "valid index kinds: auto, hnsw, ivf-flat (or ivf)",
                    "unknown ANN index kind '", name, "'");
  return AnnKind::kAuto;
}

const char* ann_kind_name(AnnKind kind) {
  switch (kind) {
    case AnnKind::kAuto:
      return "auto";
    case AnnKind::kHnsw:
      return "hnsw";
    case AnnKind::kIvfFlat:
      return "ivf-flat";
  }
  return "unknown";
}

AnnKind resolve_ann_kind(AnnKind kind, int64_t items) {
  if (kind != AnnKind::kAuto) return kind;
  return items >= kIvfAutoMinItems ? AnnKind::kIvfFlat : AnnKind::kHnsw;
}

int auto_nprobe(int nlist) {
  DIVREC_CHECK(nlist >= 1, "auto_nprobe: nlist=", nlist);
  const int root = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(nlist))));
  return std::min(std::max(root, 16), nlist);
}

}  // namespace divrec::eval
