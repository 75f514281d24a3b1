// The serving artifact: one self-contained, versioned HDF5 file with exactly what serving needs
// (model config, every weight by its checkpoint name, the item table, precomputed item vectors,
// default re-ranking settings) and a CRC-32 over all datasets, verified at load.
// Layout and checksum order: docs/serving.md (readable with h5py alone).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/retrieval/ann_store.h"
#include "serving/fairness_export.h"
#include "serving/settings.h"
#include "trainer/model/config.h"

namespace divrec::serving {

inline constexpr int64_t kArtifactFormatVersion = 1;
inline constexpr char kArtifactKind[] = "serving-model";

struct Artifact {
  int64_t format_version = kArtifactFormatVersion;
  model::ModelConfig config;              // catalog sizes included
  std::string objective = "next-item";    // next-item (causal) | masked-item ([MASK] appended)
  std::vector<std::string> weight_names;  // the model's named_parameters keys, in model order
  std::vector<torch::Tensor> weights;     // float32, CPU, contiguous; same order
  // Raw ids, categories, attribute CSR, names, popularity, content (fp16/bf16 content as its
  // 16-bit patterns, ItemTable::content_bits, when read from a file).
  data::ItemTable items;
  torch::Tensor item_vectors;  // [I, D] float32: the model's tied output item vectors
  RecommendSettings defaults;  // what a request that says nothing gets
  // The ANN index file beside the artifact (divrec export --retrieval ann|auto); file "" = none.
  // Outside the checksum: the index is bound to the item vectors by their CRC at load.
  eval::AnnIndexRef ann_index;
  // divrec export --fairness-policy: the fitted exposure multipliers (absent = none). Inside the
  // checksum: they change answers.
  FairnessExport fairness;
  // Provenance, informational only.
  std::string train_config;  // the checkpoint's resolved training config (INI text)
  std::string source_checkpoint;
  std::string export_command;
  uint32_t checksum = 0;  // set by write_artifact / read_artifact

  bool causal() const { return objective == "next-item"; }
};

// CRC-32 (zlib) over every dataset's bytes in the documented fixed order: item_vectors, weights by
// name (byte order), the item arrays, the string arrays (each string + a NUL byte), then the
// attributes that change answers (model_config, objective, defaults) as stored.
uint32_t artifact_checksum(const Artifact& a);

// Checks shapes and consistency, computes the checksum (stored into a.checksum), and writes the
// file atomically (temp beside `path`, fsync, rename). Throws naming the file on failure.
void write_artifact(const std::string& path, Artifact& a);

// Reads and verifies the file: HDF5, kind, format version, every dataset present with the right
// shape, and the checksum. Errors name the file and what is wrong (not HDF5, wrong format
// version, checksum mismatch, missing dataset, ...).
Artifact read_artifact(const std::string& path);

// The artifact's /items content_encoder attribute (encode-items' text-encoder identity, JSON; ""
// when not recorded) without reading the arrays. Throws as read_artifact does for a file that is
// not a serving artifact.
std::string read_content_encoder(const std::string& path);

}  // namespace divrec::serving
