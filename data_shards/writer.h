// Writing a dataset directory (format v1, docs/data-format.md) from a converter's RawDataset:
// dense ids, per-user time order, split points, train-only popularity, N user shards, the item
// table and the manifest, all built under a temp name and renamed into place only on success.
#pragma once

#include <string>

#include "data_shards/dataset.h"
#include "data_shards/raw_dataset.h"

namespace divrec::data {

struct WriteOptions {
  std::string output_dir;
  int num_shards = 1;
  // Users with fewer events are dropped. Leave-one-out needs >= 3 (one train event, one
  // validation target, one test target), which is also the default.
  int min_seq_len = 3;
  SplitOptions split;
  // Cold-start hold-out (`--cold-items`, cold_items.h): this share of the items keeps only its
  // test-target events; 0 = off.
  double cold_items = 0.0;
  uint64_t cold_seed = 1;
  std::string command;  // the command line that made the dataset (launcher::command_line())
};

// Writes the dataset and returns its manifest (shard checksums filled in). Throws divrec::Error
// on empty input, bad options or I/O failure; an existing output_dir is then left untouched.
Manifest write_dataset(const RawDataset& raw, const WriteOptions& options);

}  // namespace divrec::data
