// `divrec shard add-content`: matches imported vectors (content_io.h) to the dataset's items by
// raw id, fills the documented fallback for items without one (a zero row and has_content = 0),
// optionally reduces them by PCA / whitening (content_pca.h) and commits the item table as a new
// dataset version (dataset_version.h). Everything is checked before anything is written.
#pragma once

#include <cstdint>
#include <string>

#include "data_shards/content_io.h"
#include "data_shards/dataset.h"

namespace divrec::data {

struct ContentImportOptions {
  std::string dir;  // the dataset
  ContentSource source;
  std::string name;     // content_model: the model that made the vectors
  std::string encoder;  // content_encoder (encode-items' text-encoder identity; "" = imported)
  int64_t pca_dim = 0;  // 0 = keep the vectors as they are
  bool whiten = false;
  bool skip_unknown_ids = false;  // default: an id that is not in the catalog is an error
  bool require_all = false;       // every catalog item must get a vector
  ContentDtype content_dtype = ContentDtype::kFloat32;  // stored precision (content_dtype.h)
  std::string command;            // recorded as the new version's version_command
};

struct ContentImportSummary {
  Manifest manifest;    // the new version's
  int64_t rows = 0;     // vectors in the file
  int64_t matched = 0;  // catalog items that got a vector
  int64_t missing = 0;  // catalog items without one (fallback)
  int64_t skipped_unknown = 0;
  int64_t input_dim = 0;
  int64_t content_dim = 0;   // after PCA
  double pca_explained = 0;  // share of the variance the PCA kept (1 without --pca)
};

// Builds the new item table without writing anything (used by import_content; exposed for
// tests): `table` is the dataset's current one, modified in place.
ContentImportSummary apply_content(const ContentImportOptions& options, const ContentRows& rows,
                                   ItemTable* table);

// apply_content to the dataset's item table and commit it as a new dataset version (the
// vectors already in memory; options.source is not read). Throws before writing anything on a
// mismatch (content_import.cpp's checks).
ContentImportSummary commit_content(const ContentImportOptions& options, const ContentRows& rows);

// commit_content with the rows read from options.source.
ContentImportSummary import_content(const ContentImportOptions& options);

}  // namespace divrec::data
