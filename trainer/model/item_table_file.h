// Files of a sparse item table saved with a checkpoint: one file per shard beside the
// checkpoint (<ckpt>.items-<step>.<s>-of-<S>: the step keeps best.pt's old shards intact until
// the new best.pt is committed), each framed like a checkpoint (CRC-32 footer) and
// holding the shard's rows of the item-id table and its sparse optimizer state. Row r of the
// table is local row r div S of shard r mod S (S = 1: a replicated table in one file).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace divrec::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// How the table was sharded when saved; recorded in the checkpoint's metadata.
struct ItemTableLayout {
  int64_t num_rows = 0;
  int64_t dim = 0;
  int shards = 1;
  int64_t step = 0;       // optimizer step of the checkpoint (part of the file names)
  std::string sharding;   // "replicated" | "row" (what training used)
  std::string optimizer;  // sparse optimizer whose state the shards hold
  std::string to_json() const;
  static ItemTableLayout from_json(const std::string& text);  // throws on missing fields
  int64_t rows_of(int shard) const {
    return num_rows > shard ? (num_rows - shard + shards - 1) / shards : 0;
  }
};

// The name under which the table's rows appear in a model (and in assembled checkpoints).
inline constexpr char kItemIdWeight[] = "item_encoder.item_id.weight";

std::string item_table_shard_path(const std::string& checkpoint, const ItemTableLayout& layout,
                                  int shard);
// Every shard file of any layout beside `checkpoint` (for clean-up).
std::vector<std::string> list_item_table_files(const std::string& checkpoint);

// Framed bytes of shard `shard`: weight [rows_of(shard), D] float32 and the optimizer state
// (every tensor's first dimension = rows_of(shard)).
std::string serialize_item_table_shard(const ItemTableLayout& layout, int shard,
                                       const torch::Tensor& weight, const NamedTensors& state);

struct ItemTableShard {
  torch::Tensor weight;  // [rows_of(shard), D]
  NamedTensors state;    // empty unless asked for
};
// Verifies the file's checksum and that it is shard `shard` of `layout`; throws naming the
// file and the problem (missing, corrupt, another layout).
ItemTableShard read_item_table_shard(const std::string& checkpoint, const ItemTableLayout& layout,
                                     int shard, bool with_state);

// Rows of the whole table whose global id g has g mod world == rank (world = 1: all rows),
// in local order (local j <-> global j * world + rank), gathered from every shard: re-shards
// a table saved with any number of shards. Weight [n, D] and, with_state, the optimizer state.
ItemTableShard read_item_table_rows(const std::string& checkpoint, const ItemTableLayout& layout,
                                    int rank, int world, bool with_state);

}  // namespace divrec::model
