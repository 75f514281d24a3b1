// The in-memory half of conversion: RawDataset -> dense ids, sorted sequences, split points,
// popularity, item table and the manifest's fields (everything except file checksums). Pure
// and deterministic; writer.cpp puts the result on disk.
#pragma once

#include <vector>

#include "data_shards/cold_items.h"
#include "data_shards/dataset.h"
#include "data_shards/raw_dataset.h"
#include "data_shards/writer.h"

namespace divrec::data {

// The name of the category given to items that have none (always the last category id).
inline constexpr const char* kNoCategory = "(none)";

struct BuiltDataset {
  Manifest manifest;  // shards / checksums left empty
  ItemTable items;
  UserSequences users;              // every kept user; user_ids == 0..U-1
  std::vector<int32_t> user_shard;  // [U] shard of each dense user
  int64_t unsorted_users = 0;       // users whose events were not in time order (they were sorted)
  int64_t dropped_users = 0;        // users shorter than min_seq_len
  ColdHoldOut cold;                 // WriteOptions::cold_items
};

BuiltDataset build_dataset(const RawDataset& raw, const WriteOptions& options);

// Recomputes train-only popularity (events before valid_start) for num_items items.
std::vector<int64_t> train_popularity(const UserSequences& users, int64_t num_items);

}  // namespace divrec::data
