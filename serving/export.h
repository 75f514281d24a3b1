// Checkpoint -> serving artifact: the model rebuilt exactly as `divrec eval` rebuilds it
// (eval/model_loader.h), its weights by name, the dataset's item table, the item vectors computed
// once, and the default request settings. Lives in divrec_export, not divrec_serving, because it
// needs the trainer's checkpoint code, which a serving process never loads.
#pragma once

#include <cstdint>
#include <string>

#include "serving/artifact.h"
#include "serving/settings.h"

namespace divrec::serving {

struct ExportOptions {
  std::string checkpoint;  // a checkpoint file or a run directory (its best.pt)
  std::string data_dir;    // the dataset the model was trained on (item table + manifest only)
  std::string output;      // MODEL.h5
  RecommendSettings defaults;
  std::string command;  // the export command line, for provenance
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
};
// build_artifact + defaults + write_artifact (atomic).
ExportSummary export_artifact(const ExportOptions& options);

}  // namespace divrec::serving
