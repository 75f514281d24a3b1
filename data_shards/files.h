// The on-disk schema of format v1: one function pair per file kind (manifest.h5, items.h5,
// shard-NNNNN.h5) mapping the in-memory types to groups, datasets and attributes exactly as
// docs/data-format.md describes. Readers check the file kind, the format version and the
// array lengths (cheap structural checks); validate.cpp checks the deeper invariants.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::data {

inline constexpr const char* kManifestFile = "manifest.h5";
inline constexpr const char* kItemsFile = "items.h5";
std::string shard_file_name(int shard);  // "shard-00007.h5"

// Throws naming `path`, the manifest's crc32 and the file's when they differ. Readers call it
// before opening items / shard files, so libhdf5 never parses a corrupted file.
void check_recorded_crc(const std::string& path, uint32_t expected);

void write_items_file(const std::string& path, const ItemTable& items);
ItemTable read_items_file(const std::string& path, ContentRead content = ContentRead::kWidened);

struct ShardHeader {
  int shard_index = 0;
  int num_shards = 0;
  int64_t num_users = 0;
  int64_t num_events = 0;
};
void write_shard_file(const std::string& path, const UserSequences& users, int shard_index,
                      int num_shards);
UserSequences read_shard_file(const std::string& path, ShardHeader* header = nullptr);
// Only user ids and row pointers (length statistics without reading the events).
void read_shard_index(const std::string& path, std::vector<int64_t>* user_ids,
                      std::vector<int64_t>* offsets, ShardHeader* header = nullptr);

// The manifest also stores the dense -> raw id maps of items, categories and attributes (copies
// of items.h5's, so the manifest alone maps every raw id).
void write_manifest_file(const std::string& path, const Manifest& manifest, const ItemTable& items);
Manifest read_manifest_file(const std::string& path);
struct ManifestIdMaps {
  std::vector<std::string> items, categories, attributes;
};
ManifestIdMaps read_manifest_id_maps(const std::string& path);

}  // namespace divrec::data
