// write_dataset (see writer.h): build in memory, then items.h5, the shards and finally the
// manifest (which records the others' checksums) into an AtomicDir that replaces the output only
// after everything was written.
#include "data_shards/writer.h"

#include <chrono>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "data_shards/build.h"
#include "data_shards/files.h"
#include "data_shards/h5.h"

namespace divrec::data {

Manifest write_dataset(const RawDataset& raw, const WriteOptions& options) {
  DIVREC_CHECK_HINT(!options.output_dir.empty(), "pass --output DIR", "no output directory");
  auto t0 = std::chrono::steady_clock::now();
  BuiltDataset b = build_dataset(raw, options);
  Manifest& m = b.manifest;
  if (b.unsorted_users > 0) {
    core::log0("{} users had events out of time order; they were sorted by time (stable)",
               b.unsorted_users);
  }
  if (b.dropped_users > 0) {
    core::log0("dropped {} users with fewer than {} events", b.dropped_users, options.min_seq_len);
  }
  core::log0("{}: {} users, {} items, {} interactions, {} categories, {} attributes", m.source,
             m.num_users, m.num_items, m.num_interactions, m.num_categories, m.num_attributes);

  core::AtomicDir dir(options.output_dir);
  write_items_file(dir.file(kItemsFile), b.items);
  m.items_file = kItemsFile;
  m.items_crc32 = core::crc32_file(dir.file(kItemsFile));

  // Users of each shard, in dense id order.
  const int num_shards = options.num_shards;
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(num_shards));
  for (int64_t u = 0; u < b.users.num_users(); ++u) {
    members[static_cast<size_t>(b.user_shard[static_cast<size_t>(u)])].push_back(u);
  }
  core::Progress progress("writing shards", num_shards);
  UserSequences shard;  // reused buffers
  for (int s = 0; s < num_shards; ++s) {
    const auto& us = members[static_cast<size_t>(s)];
    shard.user_ids.clear();
    shard.offsets.assign(1, 0);
    shard.items.clear();
    shard.times.clear();
    shard.events.clear();
    shard.valid_start.clear();
    shard.test_start.clear();
    for (int64_t u : us) {
      auto b0 = b.users.offsets[static_cast<size_t>(u)];
      auto b1 = b.users.offsets[static_cast<size_t>(u) + 1];
      shard.user_ids.push_back(u);
      shard.items.insert(shard.items.end(), b.users.items.begin() + b0, b.users.items.begin() + b1);
      shard.times.insert(shard.times.end(), b.users.times.begin() + b0, b.users.times.begin() + b1);
      shard.events.insert(shard.events.end(), b.users.events.begin() + b0,
                          b.users.events.begin() + b1);
      shard.offsets.push_back(static_cast<int64_t>(shard.items.size()));
      shard.valid_start.push_back(b.users.valid_start[static_cast<size_t>(u)]);
      shard.test_start.push_back(b.users.test_start[static_cast<size_t>(u)]);
    }
    std::string name = shard_file_name(s);
    write_shard_file(dir.file(name), shard, s, num_shards);
    m.shards.push_back(
        ShardInfo{name, shard.num_users(), shard.num_events(), core::crc32_file(dir.file(name))});
    progress.advance();
  }
  progress.finish();
  write_manifest_file(dir.file(kManifestFile), m, b.items);
  dir.commit();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::log0("wrote {} ({} shards) in {}", options.output_dir, num_shards,
             core::format_duration(secs));
  return m;
}

}  // namespace divrec::data
