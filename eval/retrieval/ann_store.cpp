// The artifact's companion index file (see ann_store.h).
#include "eval/retrieval/ann_store.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"

namespace divrec::eval {

namespace fs = std::filesystem;

namespace {

const char* kFixHint =
    "re-export with `divrec export --retrieval ann` (it writes the artifact and its index "
    "together), or serve with --retrieval exact";

std::string name_of(const AnnIndex& index, const std::string& artifact_path) {
  const auto& o = index.options();
  const std::string opts = fmt::format("{}:{}:{}:{}:{}", ann_kind_name(o.kind), o.hnsw_m,
                                       o.ef_construction, o.ivf_nlist, o.mips_headroom);
  return fmt::format("{}.ann-{:08x}-{:08x}", fs::path(artifact_path).filename().string(),
                     index.vectors_crc(), core::crc32_bytes(opts.data(), opts.size()));
}

}  // namespace

std::string ann_index_path(const std::string& artifact_path, const std::string& file) {
  return (fs::path(artifact_path).parent_path() / file).string();
}

AnnIndexRef save_ann_beside(const AnnIndex& index, const std::string& artifact_path) {
  AnnIndexRef ref;
  ref.file = name_of(index, artifact_path);
  ref.kind = index.kind();
  ref.items = index.size();
  ref.dim = index.dim();
  ref.vectors_crc = index.vectors_crc();
  index.save(ann_index_path(artifact_path, ref.file));
  return ref;
}

AnnIndex load_ann_for(const std::string& artifact_path, const AnnIndexRef& ref, const float* items,
                      int64_t n, int64_t d) {
  DIVREC_CHECK_HINT(ref.present(), kFixHint, "serving artifact '", artifact_path,
                    "' has no ANN index");
  const std::string path = ann_index_path(artifact_path, ref.file);
  DIVREC_CHECK_HINT(core::path_exists(path), kFixHint, "ANN index '", path,
                    "' named by serving artifact '", artifact_path, "' is missing");
  DIVREC_CHECK_HINT(ref.items == n && ref.dim == d, kFixHint, "serving artifact '", artifact_path,
                    "' records an index of [", ref.items, ", ", ref.dim, "] but holds [", n, ", ",
                    d, "] item vectors");
  AnnIndex index = AnnIndex::load(path);
  DIVREC_CHECK_HINT(index.size() == n && index.dim() == d && index.kind() == ref.kind &&
                        index.vectors_crc() == ref.vectors_crc,
                    kFixHint, "ANN index '", path, "' does not belong to serving artifact '",
                    artifact_path, "': the file holds ", ann_kind_name(index.kind()), " [",
                    index.size(), ", ", index.dim(), "] vectors CRC ",
                    fmt::format("{:#010x}", index.vectors_crc()), ", the artifact expects ",
                    ann_kind_name(ref.kind), " [", n, ", ", d, "] vectors CRC ",
                    fmt::format("{:#010x}", ref.vectors_crc));
  const uint32_t crc = core::crc32_bytes(items, static_cast<size_t>(n * d) * sizeof(float));
  DIVREC_CHECK_HINT(crc == ref.vectors_crc, kFixHint, "serving artifact '", artifact_path,
                    "': its item vectors (CRC ", fmt::format("{:#010x}", crc),
                    ") are not the ones its ANN index was built from (",
                    fmt::format("{:#010x}", ref.vectors_crc), ")");
  return index;
}

void remove_stale_ann(const std::string& artifact_path, const std::string& keep) {
  const fs::path dir = fs::path(artifact_path).parent_path();
  const std::string prefix = fs::path(artifact_path).filename().string() + ".ann-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name != keep && name.find(".tmp") == std::string::npos) {
      fs::remove(e.path(), ec);
      if (!ec) core::log0("export: removed the previous index '{}'", e.path().string());
    }
  }
}

}  // namespace divrec::eval
