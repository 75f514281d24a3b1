// The sparse item table in checkpoints: its holders write shard files beside the checkpoint
// (model/item_table_file.h has the format), and a resumed or fine-tuned run loads its rows
// from any saved layout (re-sharding) or from a dense checkpoint's item-id tensor.
#pragma once

#include <string>

#include "core/comm/communicator.h"
#include "trainer/checkpoint.h"
#include "trainer/sharded_item_table.h"

namespace divrec::trainer {

// Collective. Writes this rank's shard file for `checkpoint` (and for `best`, when not empty):
// row-wise every rank writes shard `rank` of W, replicated rank 0 writes shard 0 of 1. Every
// rank learns whether any write failed: then *error is set (the caller must not commit the
// checkpoint). Returns the layout JSON for the checkpoint's metadata.
std::string save_item_table_shards(core::Communicator& comm, ShardedItemTable& table,
                                   const std::string& checkpoint, const std::string& best,
                                   int64_t step, std::string* error);

// Removes a checkpoint's item-table shard files, except those of keep_layout (JSON, may be "").
void remove_item_table_files(const std::string& checkpoint, const std::string& keep_layout);

// Loads this rank's rows of the table (and, with_state, its sparse optimizer state when the
// checkpoint used the same optimizer) from a checkpoint saved with any number of shards, or
// from a dense checkpoint's item-id tensor (report.dense_item_table; the optimizer state then
// stays zero). Throws naming the checkpoint when sizes differ.
void load_item_table(const std::string& checkpoint, const LoadReport& report,
                     ShardedItemTable& table, bool with_state);

}  // namespace divrec::trainer
