// Reading a dataset directory (format v1): the manifest, the item table, and users' sequences
// either from chosen shards, all of them, or only the users one rank owns (streamed shard by
// shard). validate_dataset (validate.h) checks every invariant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "data_shards/validate.h"

namespace divrec::data {

Manifest read_manifest(const std::string& dir);
// content: kStored keeps fp16/bf16 content vectors 16-bit (ItemTable::content_bits).
ItemTable read_item_table(const std::string& dir, ContentRead content = ContentRead::kWidened);

// Users of the given shards, merged and sorted by dense user id.
UserSequences read_shards(const std::string& dir, const std::vector<int>& shard_indices);
// Every user, sorted by dense user id (what every rank reads for the shared EpochSampler).
UserSequences read_all_users(const std::string& dir);
// Users whose dense id satisfies keep, sorted by dense id; streams the shards one at a time
// (memory: one shard plus the selection).
UserSequences read_users_where(const std::string& dir, const std::function<bool(int64_t)>& keep);
// Users with dense id % world == rank (read_users_where).
UserSequences read_users_for_rank(const std::string& dir, int rank, int world);

// Sequence lengths of all users in dense user id order, without reading their events.
std::vector<int64_t> read_sequence_lengths(const std::string& dir);

}  // namespace divrec::data
