// validate_dataset: the full consistency check of a dataset directory (checksums, counts, CSR
// structure, id ranges, time order, split points, shard partition, train-only popularity).
#pragma once

#include <string>

namespace divrec::data {

// Throws divrec::Error naming the violated invariant, the file, the dataset and the row.
void validate_dataset(const std::string& dir);

}  // namespace divrec::data
