// Dataset directory readers (see reader.h). Shards are read whole and merged by dense user id;
// the per-rank reader keeps only its users from each shard before reading the next.
#include "data_shards/reader.h"

#include <algorithm>
#include <numeric>

#include "core/check.h"
#include "data_shards/files.h"

namespace divrec::data {

namespace {

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// Reads shard `index` of the manifest and checks it against the manifest's entry.
UserSequences read_checked_shard(const std::string& dir, const Manifest& m, int index) {
  DIVREC_CHECK_HINT(index >= 0 && index < static_cast<int>(m.shards.size()),
                    "shard indices run from 0 to num_shards - 1", "shard index ", index,
                    " out of range: ", dir, " has ", m.shards.size(), " shards");
  const auto& info = m.shards[static_cast<size_t>(index)];
  std::string path = join(dir, info.file);
  check_recorded_crc(path, info.crc32);
  ShardHeader h;
  UserSequences s = read_shard_file(path, &h);
  DIVREC_CHECK_HINT(
      h.shard_index == index && h.num_users == info.num_users && h.num_events == info.num_events,
      "the directory mixes files of different conversions; reconvert it", path, " (shard ",
      h.shard_index, ": ", h.num_users, " users, ", h.num_events,
      " events) does not match the manifest (shard ", index, ": ", info.num_users, " users, ",
      info.num_events, " events)");
  return s;
}

// Appends users of `src` for which keep(user_id) holds.
template <typename Keep>
void append_users(UserSequences* dst, const UserSequences& src, Keep keep) {
  for (int64_t u = 0; u < src.num_users(); ++u) {
    auto su = static_cast<size_t>(u);
    if (!keep(src.user_ids[su])) continue;
    auto b = src.offsets[su], e = src.offsets[su + 1];
    dst->user_ids.push_back(src.user_ids[su]);
    dst->items.insert(dst->items.end(), src.items.begin() + b, src.items.begin() + e);
    dst->times.insert(dst->times.end(), src.times.begin() + b, src.times.begin() + e);
    dst->events.insert(dst->events.end(), src.events.begin() + b, src.events.begin() + e);
    dst->offsets.push_back(static_cast<int64_t>(dst->items.size()));
    dst->valid_start.push_back(src.valid_start[su]);
    dst->test_start.push_back(src.test_start[su]);
  }
}

// Reorders users by dense user id (a no-op copy-free return when already sorted).
UserSequences sort_by_user(UserSequences in) {
  if (std::is_sorted(in.user_ids.begin(), in.user_ids.end())) return in;
  std::vector<int64_t> order(in.user_ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return in.user_ids[static_cast<size_t>(a)] < in.user_ids[static_cast<size_t>(b)];
  });
  UserSequences out;
  out.user_ids.reserve(order.size());
  out.offsets.reserve(order.size() + 1);
  out.items.reserve(in.items.size());
  out.times.reserve(in.times.size());
  out.events.reserve(in.events.size());
  for (int64_t u : order) {
    auto su = static_cast<size_t>(u);
    auto b = in.offsets[su], e = in.offsets[su + 1];
    out.user_ids.push_back(in.user_ids[su]);
    out.items.insert(out.items.end(), in.items.begin() + b, in.items.begin() + e);
    out.times.insert(out.times.end(), in.times.begin() + b, in.times.begin() + e);
    out.events.insert(out.events.end(), in.events.begin() + b, in.events.begin() + e);
    out.offsets.push_back(static_cast<int64_t>(out.items.size()));
    out.valid_start.push_back(in.valid_start[su]);
    out.test_start.push_back(in.test_start[su]);
  }
  return out;
}

}  // namespace

Manifest read_manifest(const std::string& dir) {
  return read_manifest_file(join(dir, kManifestFile));
}

ItemTable read_item_table(const std::string& dir, ContentRead content) {
  Manifest m = read_manifest(dir);
  check_recorded_crc(join(dir, m.items_file), m.items_crc32);
  ItemTable t = read_items_file(join(dir, m.items_file), content);
  DIVREC_CHECK_HINT(t.num_items == m.num_items && t.num_categories == m.num_categories &&
                        t.num_attributes == m.num_attributes && t.content_dim == m.content_dim,
                    "the directory mixes files of different conversions; reconvert it",
                    join(dir, m.items_file), " counts (", t.num_items, " items, ", t.num_categories,
                    " categories, ", t.num_attributes, " attributes) do not match the manifest (",
                    m.num_items, ", ", m.num_categories, ", ", m.num_attributes, ")");
  return t;
}

UserSequences read_shards(const std::string& dir, const std::vector<int>& shard_indices) {
  Manifest m = read_manifest(dir);
  std::vector<int> sorted = shard_indices;
  std::sort(sorted.begin(), sorted.end());
  DIVREC_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
               "read_shards: shard indices listed twice");
  if (sorted.size() == 1) return read_checked_shard(dir, m, sorted[0]);
  UserSequences all;
  for (int s : sorted) {
    append_users(&all, read_checked_shard(dir, m, s), [](int64_t) { return true; });
  }
  return sort_by_user(std::move(all));
}

UserSequences read_all_users(const std::string& dir) {
  Manifest m = read_manifest(dir);
  std::vector<int> all(m.shards.size());
  std::iota(all.begin(), all.end(), 0);
  UserSequences u = read_shards(dir, all);
  DIVREC_CHECK_HINT(u.num_users() == m.num_users && u.num_events() == m.num_interactions,
                    "the directory mixes files of different conversions; reconvert it", dir,
                    ": shards hold ", u.num_users(), " users / ", u.num_events(),
                    " events, the manifest says ", m.num_users, " / ", m.num_interactions);
  return u;
}

UserSequences read_users_where(const std::string& dir, const std::function<bool(int64_t)>& keep) {
  Manifest m = read_manifest(dir);
  UserSequences mine;
  for (int s = 0; s < static_cast<int>(m.shards.size()); ++s) {
    append_users(&mine, read_checked_shard(dir, m, s), keep);
  }
  return sort_by_user(std::move(mine));
}

UserSequences read_users_for_rank(const std::string& dir, int rank, int world) {
  DIVREC_CHECK(world >= 1 && rank >= 0 && rank < world, "bad rank ", rank, " of world ", world);
  return read_users_where(dir, [&](int64_t id) { return id % world == rank; });
}

std::vector<int64_t> read_sequence_lengths(const std::string& dir) {
  Manifest m = read_manifest(dir);
  std::vector<int64_t> lengths(static_cast<size_t>(m.num_users), -1);
  std::vector<int64_t> ids, offsets;
  for (const auto& info : m.shards) {
    std::string path = join(dir, info.file);
    check_recorded_crc(path, info.crc32);
    read_shard_index(path, &ids, &offsets);
    for (size_t u = 0; u < ids.size(); ++u) {
      DIVREC_CHECK_HINT(ids[u] >= 0 && ids[u] < m.num_users, "run divrec shard validate", path,
                        ": user id ", ids[u], " at row ", u, " is not below num_users ",
                        m.num_users);
      lengths[static_cast<size_t>(ids[u])] = offsets[u + 1] - offsets[u];
    }
  }
  return lengths;
}

}  // namespace divrec::data
