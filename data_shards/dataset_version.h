// New dataset versions in place: a changed item table goes to a new file (items-vNNNN.h5), the
// current manifest is kept as manifest-vNNNN.h5, and the new manifest replaces manifest.h5 by an
// atomic rename; the shards and the old item table are untouched, so the previous version stays
// complete and a failure at any point leaves the dataset as it was.
#pragma once

#include <string>

#include "data_shards/dataset.h"

namespace divrec::data {

std::string items_version_file(int64_t version);     // "items-v0001.h5"
std::string manifest_version_file(int64_t version);  // "manifest-v0000.h5"

// Writes `items` as version current.dataset_version + 1 of the dataset in `dir` (whose manifest
// must still be `current`: checked against the file's checksum-bearing fields) and returns the
// new manifest. `command` is recorded as the new version's version_command.
Manifest commit_items_version(const std::string& dir, const Manifest& current,
                              const ItemTable& items, const std::string& command);

}  // namespace divrec::data
