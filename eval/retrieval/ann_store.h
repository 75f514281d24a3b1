// The ANN index file that belongs to a serving artifact: written beside it under a name derived
// from the item vectors' CRC and the build options (so writing a new one never replaces the file
// an older artifact refers to), recorded in the artifact (AnnIndexRef), and loaded only when it
// matches the artifact's item vectors; errors name both files and say how to fix them.
#pragma once

#include <cstdint>
#include <string>

#include "eval/retrieval/ann_index.h"

namespace divrec::eval {

// What an artifact records about its index (attribute "ann_index", docs/serving.md).
struct AnnIndexRef {
  std::string file;  // base name, in the artifact's directory; "" = no index
  AnnKind kind = AnnKind::kHnsw;
  int64_t items = 0;
  int64_t dim = 0;
  uint32_t vectors_crc = 0;  // CRC-32 of the [items, dim] float32 vectors it was built from
  bool present() const { return !file.empty(); }
};

// <dir of artifact>/<file>.
std::string ann_index_path(const std::string& artifact_path, const std::string& file);

// Saves the index beside `artifact_path` (atomic: temp, fsync, rename) and returns its record.
AnnIndexRef save_ann_beside(const AnnIndex& index, const std::string& artifact_path);

// Loads the index `ref` names for the artifact at `artifact_path` and checks it against the
// artifact's item vectors [n, d]: the record, the file header and the vectors' CRC must agree.
AnnIndex load_ann_for(const std::string& artifact_path, const AnnIndexRef& ref, const float* items,
                      int64_t n, int64_t d);

// Removes index files of this artifact name ("<name>.ann-*") other than `keep` (a base name):
// called after the artifact that refers to `keep` has been committed.
void remove_stale_ann(const std::string& artifact_path, const std::string& keep);

}  // namespace divrec::eval
