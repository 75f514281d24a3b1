// validate_dataset (see validate.h): checksums first (a changed byte is reported as such), then
// the item table, then every shard user by user, then the cross-file totals.
#include "data_shards/validate.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/check.h"
#include "core/fs.h"
#include "data_shards/dataset.h"
#include "data_shards/files.h"
#include "data_shards/ids.h"

namespace divrec::data {

namespace {

constexpr const char* kHint =
    "the dataset is corrupted or was changed after conversion; "
    "reconvert it with divrec shard convert";

// "invariant violated: <what> (<file>:/<dataset>, row <row>): <detail>"
#define VALIDATE(cond, file, dataset, row, what, ...)                                     \
  DIVREC_CHECK_HINT(cond, kHint, "invariant violated: ", what, " (", file, ":/", dataset, \
                    ", row ", row, "): ", __VA_ARGS__)

void validate_items(const std::string& path, const Manifest& m, const ItemTable& t,
                    const ManifestIdMaps& maps) {
  DIVREC_CHECK_HINT(t.num_items == m.num_items && t.num_categories == m.num_categories &&
                        t.num_attributes == m.num_attributes && t.content_dim == m.content_dim,
                    kHint, "invariant violated: item table counts match the manifest (", path, ")");
  for (int64_t i = 0; i < t.num_items; ++i) {
    auto c = t.category[static_cast<size_t>(i)];
    VALIDATE(c >= 0 && c < t.num_categories, path, "category", i, "category in [0, num_categories)",
             "category ", c, ", num_categories ", t.num_categories);
    for (int64_t k = t.attr_offsets[static_cast<size_t>(i)];
         k < t.attr_offsets[static_cast<size_t>(i) + 1]; ++k) {
      auto a = t.attr_ids[static_cast<size_t>(k)];
      VALIDATE(a >= 0 && a < t.num_attributes, path, "attr_ids", k,
               "attribute ids in [0, num_attributes)", "attribute ", a, " of item ", i,
               ", num_attributes ", t.num_attributes);
      VALIDATE(
          k == t.attr_offsets[static_cast<size_t>(i)] || t.attr_ids[static_cast<size_t>(k) - 1] < a,
          path, "attr_ids", k, "attribute ids strictly increasing per item", "item ", i);
    }
    VALIDATE(t.popularity[static_cast<size_t>(i)] >= 0, path, "popularity", i, "popularity >= 0",
             t.popularity[static_cast<size_t>(i)]);
  }
  for (size_t k = 0; k < t.content.size(); ++k) {
    VALIDATE(std::isfinite(t.content[k]), path, "content", k / static_cast<size_t>(t.content_dim),
             "content vectors finite", "column ", k % static_cast<size_t>(t.content_dim));
  }
  const auto d = static_cast<size_t>(t.content_dim);
  for (size_t i = 0; i < t.has_content.size(); ++i) {
    const uint8_t h = t.has_content[i];
    VALIDATE(h <= 1, path, "has_content", i, "has_content is 0 or 1", "value ", int{h});
    if (h == 1) continue;
    const auto row = t.content.begin() + static_cast<ptrdiff_t>(i * d);
    VALIDATE(std::all_of(row, row + static_cast<ptrdiff_t>(d), [](float x) { return x == 0.0f; }),
             path, "content", i, "items without content have a zero row", "has_content = 0");
  }
  for (size_t k = 0; k < t.text_ids.size(); ++k) {
    VALIDATE(t.text_ids[k] >= 0 && t.text_ids[k] < t.text_vocab, path, "text_ids", k,
             "text piece ids in [0, text_vocab)", "id ", t.text_ids[k], ", text_vocab ",
             t.text_vocab);
  }
  auto unique = [&](const std::vector<std::string>& names, const char* ds) {
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < names.size(); ++i) {
      VALIDATE(seen.insert(names[i]).second, path, ds, i, "raw ids unique", "'", names[i],
               "' appears twice");
    }
  };
  unique(t.raw_ids, "raw_ids");
  unique(t.category_names, "category_names");
  unique(t.attribute_names, "attribute_names");
  DIVREC_CHECK_HINT(maps.items == t.raw_ids && maps.categories == t.category_names &&
                        maps.attributes == t.attribute_names,
                    kHint,
                    "invariant violated: manifest id_maps equal the item table's raw_ids / "
                    "category_names / attribute_names (",
                    path, ")");
}

// Checks one shard's users; marks them seen and adds their train events to `pop`.
void validate_shard(const std::string& path, int index, const Manifest& m, std::vector<char>* seen,
                    std::vector<int64_t>* pop) {
  ShardHeader h;
  UserSequences s = read_shard_file(path, &h);
  const auto& info = m.shards[static_cast<size_t>(index)];
  DIVREC_CHECK_HINT(h.shard_index == index && h.num_shards == static_cast<int>(m.shards.size()) &&
                        h.num_users == info.num_users && h.num_events == info.num_events,
                    kHint, "invariant violated: shard header matches the manifest (", path,
                    ": shard ", h.shard_index, "/", h.num_shards, ", ", h.num_users, " users, ",
                    h.num_events, " events; manifest: shard ", index, "/", m.shards.size(), ", ",
                    info.num_users, " users, ", info.num_events, " events)");
  for (int64_t u = 0; u < s.num_users(); ++u) {
    auto su = static_cast<size_t>(u);
    int64_t id = s.user_ids[su];
    VALIDATE(id >= 0 && id < m.num_users, path, "user_ids", u, "user ids in [0, num_users)",
             "user id ", id, ", num_users ", m.num_users);
    VALIDATE(u == 0 || s.user_ids[su - 1] < id, path, "user_ids", u,
             "user ids strictly increasing within a shard", s.user_ids[su - 1], " then ", id);
    VALIDATE(!(*seen)[static_cast<size_t>(id)], path, "user_ids", u,
             "each user in exactly one shard", "user ", id, " already seen in another shard");
    (*seen)[static_cast<size_t>(id)] = 1;
    const auto& raw = m.user_raw_ids[static_cast<size_t>(id)];
    VALIDATE(shard_of(raw, static_cast<int>(m.shards.size())) == index, path, "user_ids", u,
             "user in shard fnv1a64(raw id) % num_shards", "raw id '", raw, "' belongs in shard ",
             shard_of(raw, static_cast<int>(m.shards.size())));
    int64_t b = s.offsets[su], e = s.offsets[su + 1];
    int64_t len = e - b;
    VALIDATE(len >= 1, path, "offsets", u, "every user has events", "user ", id);
    int32_t vs = s.valid_start[su], ts = s.test_start[su];
    VALIDATE(0 <= vs && vs <= ts && ts <= len, path, "valid_start", u,
             "0 <= valid_start <= test_start <= length", "valid_start ", vs, ", test_start ", ts,
             ", length ", len);
    if (m.split == "leave-one-out") {
      VALIDATE(vs == len - 2 && ts == len - 1, path, "valid_start", u,
               "leave-one-out: valid_start = length - 2, test_start = length - 1", "valid_start ",
               vs, ", test_start ", ts, ", length ", len);
    } else {
      auto tb = s.times.begin() + b, te = s.times.begin() + e;
      auto want_vs = std::lower_bound(tb, te, m.valid_cut_time) - tb;
      auto want_ts = std::lower_bound(tb, te, m.test_cut_time) - tb;
      VALIDATE(vs == want_vs && ts == want_ts, path, "valid_start", u,
               "temporal: split points are the first events at/after the cut times", "valid_start ",
               vs, " (expected ", want_vs, "), test_start ", ts, " (expected ", want_ts, ")");
    }
    for (int64_t k = b; k < e; ++k) {
      auto sk = static_cast<size_t>(k);
      VALIDATE(s.items[sk] >= 0 && s.items[sk] < m.num_items, path, "items", k,
               "item ids in [0, num_items)", "item ", s.items[sk], " of user ", id, ", num_items ",
               m.num_items);
      VALIDATE(k == b || s.times[sk - 1] <= s.times[sk], path, "times", k,
               "times non-decreasing per user", s.times[sk - 1], " then ", s.times[sk], " (user ",
               id, ")");
      VALIDATE(s.events[sk] >= 0 && s.events[sk] <= static_cast<int8_t>(EventType::kRating), path,
               "events", k, "event types in [0, 4]", "event ", int{s.events[sk]});
      if (k - b < vs) ++(*pop)[static_cast<size_t>(s.items[sk])];
    }
  }
}

}  // namespace

void validate_dataset(const std::string& dir) {
  const std::string manifest_path = dir + "/" + kManifestFile;
  Manifest m = read_manifest_file(manifest_path);
  DIVREC_CHECK_HINT(m.split == "leave-one-out" || m.split == "temporal", kHint,
                    "invariant violated: split is leave-one-out or temporal (", manifest_path,
                    ": '", m.split, "')");
  const std::string items_path = dir + "/" + m.items_file;
  check_recorded_crc(items_path, m.items_crc32);
  for (const auto& s : m.shards) check_recorded_crc(dir + "/" + s.file, s.crc32);

  ItemTable t = read_items_file(items_path);
  validate_items(items_path, m, t, read_manifest_id_maps(manifest_path));

  std::vector<char> seen(static_cast<size_t>(m.num_users), 0);
  std::vector<int64_t> pop(static_cast<size_t>(m.num_items), 0);
  int64_t users = 0, events = 0;
  for (int i = 0; i < static_cast<int>(m.shards.size()); ++i) {
    validate_shard(dir + "/" + m.shards[static_cast<size_t>(i)].file, i, m, &seen, &pop);
    users += m.shards[static_cast<size_t>(i)].num_users;
    events += m.shards[static_cast<size_t>(i)].num_events;
  }
  DIVREC_CHECK_HINT(users == m.num_users && events == m.num_interactions, kHint,
                    "invariant violated: shard totals match the manifest (", manifest_path,
                    ": shards hold ", users, " users / ", events, " events, manifest says ",
                    m.num_users, " / ", m.num_interactions, ")");
  for (int64_t i = 0; i < m.num_items; ++i) {
    VALIDATE(pop[static_cast<size_t>(i)] == t.popularity[static_cast<size_t>(i)], items_path,
             "popularity", i, "popularity equals train-split counts (events before valid_start)",
             "stored ", t.popularity[static_cast<size_t>(i)], ", recomputed ",
             pop[static_cast<size_t>(i)]);
  }
}

}  // namespace divrec::data
