// Checkpoint -> serving artifact: the model rebuilt exactly as `divrec eval` rebuilds it
// (eval/model_loader.h), its weights by name, the dataset's item table, the item vectors computed
// once, and the default request settings. Lives in divrec_export, not divrec_serving, because it
// needs the trainer's checkpoint code, which a serving process never loads.
#pragma once

#include <cstdint>
#include <string>

#include "eval/retrieval/ann_index.h"
#include "eval/retrieval/retrieval_mode.h"
#include "serving/artifact.h"
#include "serving/settings.h"

namespace divrec::serving {

struct ExportOptions {
  std::string checkpoint;  // a checkpoint file or a run directory (its best.pt)
  std::string data_dir;    // the dataset the model was trained on (item table + manifest only)
  std::string output;      // MODEL.h5
  RecommendSettings defaults;
  std::string command;  // the export command line, for provenance
  // ann: build an ANN index over the item vectors and write it beside the artifact; auto: the
  // same from eval::kAutoAnnMinItems items on; exact: none (and older index files are removed).
  eval::RetrievalMode retrieval = eval::RetrievalMode::kAuto;
  eval::AnnBuildOptions ann;
  // --fairness-policy: a `divrec eval --fairness dual` report whose multipliers and groups the
  // artifact carries ("" = none).
  std::string fairness_report;
};

// The artifact in memory (not yet written; checksum unset).
Artifact build_artifact(const std::string& checkpoint, const std::string& data_dir);

struct ExportSummary {
  std::string checkpoint;  // the file actually read
  uint32_t checksum = 0;
  int64_t items = 0;
  int64_t weights = 0;     // tensors
  int64_t parameters = 0;  // scalars
  uintmax_t bytes = 0;     // file size
  std::string ann_index;   // the index file written beside the artifact ("" = none)
  double ann_build_s = 0;
};
// build_artifact + defaults (+ the ANN index, saved first under a name of its own) +
// write_artifact (atomic); then index files of older exports to this path are removed. A crash
// at any point leaves the previous artifact with its own index, or the new pair.
ExportSummary export_artifact(const ExportOptions& options);

}  // namespace divrec::serving
