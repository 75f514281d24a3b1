// RawDataset -> BuiltDataset (see build.h). All steps work on flat arrays: a counting sort groups
// events by user, a stable sort per user orders them by time, and dense ids come from
// sorted_by_name so the result depends on the input only.
#include "data_shards/build.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/ids.h"
#include "data_shards/text_tokens.h"

namespace divrec::data {

namespace {

void check_options(const RawDataset& raw, const WriteOptions& o) {
  DIVREC_CHECK_HINT(o.num_shards >= 1, "pass --num-shards >= 1", "num_shards = ", o.num_shards);
  const auto& s = o.split;
  if (s.type == "leave-one-out") {
    DIVREC_CHECK_HINT(o.min_seq_len >= 3, "pass --min-seq-len 3 or more",
                      "leave-one-out needs users with >= 3 events (train, valid, test); got "
                      "min_seq_len = ",
                      o.min_seq_len);
  } else if (s.type == "temporal") {
    DIVREC_CHECK_HINT(o.min_seq_len >= 1, "pass --min-seq-len 1 or more",
                      "min_seq_len = ", o.min_seq_len);
    if (s.explicit_cuts) {
      DIVREC_CHECK_HINT(s.valid_cut <= s.test_cut, "pass --valid-cut <= --test-cut",
                        "temporal split: valid cut ", s.valid_cut, " is after test cut ",
                        s.test_cut);
    } else {
      DIVREC_CHECK_HINT(s.valid_frac >= 0 && s.test_frac >= 0 && s.valid_frac + s.test_frac < 1,
                        "pass fractions in [0, 1) that sum to less than 1",
                        "temporal split: bad --valid-frac ", s.valid_frac, " / --test-frac ",
                        s.test_frac);
    }
  } else {
    DIVREC_FAIL("unknown split '", s.type, "' (expected leave-one-out or temporal)");
  }
  size_t n = raw.user.size();
  DIVREC_CHECK(raw.item.size() == n && raw.time.size() == n && raw.event.size() == n,
               "internal: RawDataset interaction arrays differ in length");
  DIVREC_CHECK_HINT(n > 0, "check the input path and filters (e.g. --behaviors, --min-rating)",
                    "no interactions in input '", raw.input, "' (", raw.source, ")");
  if (raw.content_dim > 0) {
    DIVREC_CHECK(raw.content.size() == static_cast<size_t>(raw.items.size() * raw.content_dim),
                 "internal: content vectors must cover every raw item");
  }
}

// Dense ids for the used raw indices; returns dense id per raw index (-1 unused) and fills names.
std::vector<int32_t> assign_dense(const Interner& in, const std::vector<char>& used,
                                  std::vector<std::string>* dense_names) {
  std::vector<int32_t> subset;
  for (int32_t i = 0; i < in.size(); ++i) {
    if (used[static_cast<size_t>(i)]) subset.push_back(i);
  }
  auto all = in.names();
  auto order = sorted_by_name(all, subset);
  std::vector<int32_t> dense(static_cast<size_t>(in.size()), -1);
  dense_names->clear();
  for (size_t d = 0; d < order.size(); ++d) {
    dense[static_cast<size_t>(order[d])] = static_cast<int32_t>(d);
    dense_names->push_back(all[static_cast<size_t>(order[d])]);
  }
  return dense;
}

void build_item_table(const RawDataset& raw, const std::vector<int32_t>& item_dense, ItemTable* t) {
  const auto num_items = t->num_items;
  std::vector<int32_t> raw_of(static_cast<size_t>(num_items));
  for (size_t r = 0; r < item_dense.size(); ++r) {
    if (item_dense[r] >= 0) raw_of[static_cast<size_t>(item_dense[r])] = static_cast<int32_t>(r);
  }
  // Categories: only those of catalog items; items without one share kNoCategory (last id).
  std::vector<char> cat_used(static_cast<size_t>(raw.categories.size()), 0);
  bool any_none = false;
  auto raw_cat = [&](int32_t r) {
    return static_cast<size_t>(r) < raw.item_category.size()
               ? raw.item_category[static_cast<size_t>(r)]
               : -1;
  };
  for (int32_t r : raw_of) {
    int32_t c = raw_cat(r);
    if (c >= 0) cat_used[static_cast<size_t>(c)] = 1;
    any_none |= c < 0;
  }
  auto cat_dense = assign_dense(raw.categories, cat_used, &t->category_names);
  if (any_none) t->category_names.push_back(kNoCategory);
  t->num_categories = static_cast<int64_t>(t->category_names.size());
  t->category.resize(static_cast<size_t>(num_items));
  for (int64_t i = 0; i < num_items; ++i) {
    int32_t c = raw_cat(raw_of[static_cast<size_t>(i)]);
    t->category[static_cast<size_t>(i)] =
        c >= 0 ? cat_dense[static_cast<size_t>(c)] : static_cast<int32_t>(t->num_categories - 1);
  }
  // Attributes: CSR, sorted and de-duplicated per item.
  std::vector<char> attr_used(static_cast<size_t>(raw.attributes.size()), 0);
  for (size_t k = 0; k < raw.attr_item.size(); ++k) {
    if (item_dense[static_cast<size_t>(raw.attr_item[k])] >= 0) {
      attr_used[static_cast<size_t>(raw.attr_id[k])] = 1;
    }
  }
  auto attr_dense = assign_dense(raw.attributes, attr_used, &t->attribute_names);
  t->num_attributes = static_cast<int64_t>(t->attribute_names.size());
  std::vector<std::pair<int32_t, int32_t>> pairs;  // (dense item, dense attribute)
  pairs.reserve(raw.attr_item.size());
  for (size_t k = 0; k < raw.attr_item.size(); ++k) {
    int32_t i = item_dense[static_cast<size_t>(raw.attr_item[k])];
    if (i >= 0) pairs.emplace_back(i, attr_dense[static_cast<size_t>(raw.attr_id[k])]);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  t->attr_offsets.assign(static_cast<size_t>(num_items) + 1, 0);
  t->attr_ids.resize(pairs.size());
  for (size_t k = 0; k < pairs.size(); ++k) {
    ++t->attr_offsets[static_cast<size_t>(pairs[k].first) + 1];
    t->attr_ids[k] = pairs[k].second;
  }
  std::partial_sum(t->attr_offsets.begin(), t->attr_offsets.end(), t->attr_offsets.begin());
  // Content vectors, rows reordered to dense ids.
  t->content_dim = raw.content_dim;
  t->content_model = raw.content_dim > 0 ? raw.content_model : "";
  if (raw.content_dim > 0) {
    auto d = static_cast<size_t>(raw.content_dim);
    t->content.resize(static_cast<size_t>(num_items) * d);
    for (int64_t i = 0; i < num_items; ++i) {
      std::copy_n(raw.content.begin() + static_cast<ptrdiff_t>(raw_of[static_cast<size_t>(i)] * d),
                  d, t->content.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(i) * d));
    }
    t->has_content.assign(static_cast<size_t>(num_items), 1);  // converters cover every item
  }
  // Item text: each catalog item's first text_max_tokens pieces (none without a text).
  if (!raw.text_model.empty()) {
    TextTokenizer tok(raw.text_model, raw.text_tokenizer_source);
    t->text_vocab = tok.vocab_size();
    t->text_tokenizer = raw.text_model;
    t->text_max_tokens = raw.text_max_tokens;
    t->text_offsets.assign(1, 0);
    for (int64_t i = 0; i < num_items; ++i) {
      const auto r = static_cast<size_t>(raw_of[static_cast<size_t>(i)]);
      if (r < raw.item_text.size() && !raw.item_text[r].empty()) {
        auto ids = tok.encode(raw.item_text[r], raw.text_max_tokens);
        t->text_ids.insert(t->text_ids.end(), ids.begin(), ids.end());
      }
      t->text_offsets.push_back(static_cast<int64_t>(t->text_ids.size()));
    }
  }
}

}  // namespace

std::vector<int64_t> train_popularity(const UserSequences& users, int64_t num_items) {
  std::vector<int64_t> pop(static_cast<size_t>(num_items), 0);
  for (int64_t u = 0; u < users.num_users(); ++u) {
    const int32_t* s = users.seq(u);
    for (int32_t p = 0; p < users.valid_start[static_cast<size_t>(u)]; ++p) {
      ++pop[static_cast<size_t>(s[p])];
    }
  }
  return pop;
}

BuiltDataset build_dataset(const RawDataset& raw, const WriteOptions& options) {
  check_options(raw, options);
  BuiltDataset out;
  const auto n = raw.user.size();
  const auto num_raw_users = static_cast<size_t>(raw.users.size());

  // Group events by user (counting sort keeps input order within a user).
  std::vector<int64_t> start(num_raw_users + 1, 0);
  for (int32_t u : raw.user) ++start[static_cast<size_t>(u) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<int64_t> order(n);
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (size_t k = 0; k < n; ++k) order[static_cast<size_t>(fill[raw.user[k]]++)] = k;
  }
  // Time order per user; ties keep input order. Out-of-order input is sorted, not rejected.
  for (size_t u = 0; u < num_raw_users; ++u) {
    auto b = order.begin() + start[u], e = order.begin() + start[u + 1];
    auto by_time = [&](int64_t x, int64_t y) { return raw.time[x] < raw.time[y]; };
    if (!std::is_sorted(b, e, by_time)) {
      std::stable_sort(b, e, by_time);
      ++out.unsorted_users;
    }
  }
  // Cold-start hold-out: before the length filter, so users left too short are dropped.
  SplitOptions split = options.split;
  out.cold = hold_out_cold_items(raw, options.cold_items, options.cold_seed, &split, &start, &order);
  // Keep users with enough events; dense ids in raw-id order.
  std::vector<char> keep(num_raw_users, 0);
  for (size_t u = 0; u < num_raw_users; ++u) {
    keep[u] = start[u + 1] - start[u] >= options.min_seq_len;
    out.dropped_users += !keep[u] && start[u + 1] > start[u];
  }
  auto& m = out.manifest;
  auto user_dense = assign_dense(raw.users, keep, &m.user_raw_ids);
  const auto num_users = static_cast<int64_t>(m.user_raw_ids.size());
  DIVREC_CHECK_HINT(num_users > 0, "lower --min-seq-len or check the input", "no user of input '",
                    raw.input, "' has at least ", options.min_seq_len, " interactions");
  std::vector<int32_t> raw_user_of(static_cast<size_t>(num_users));
  for (size_t u = 0; u < num_raw_users; ++u) {
    if (user_dense[u] >= 0)
      raw_user_of[static_cast<size_t>(user_dense[u])] = static_cast<int32_t>(u);
  }
  // Catalog = items that kept users interacted with.
  std::vector<char> item_used(static_cast<size_t>(raw.items.size()), 0);
  for (size_t u = 0; u < num_raw_users; ++u) {
    if (!keep[u]) continue;
    for (int64_t k = start[u]; k < start[u + 1]; ++k) item_used[raw.item[order[k]]] = 1;
  }
  for (size_t r = 0; r < out.cold.cold.size(); ++r) item_used[r] |= out.cold.cold[r];
  auto& items = out.items;
  auto item_dense = assign_dense(raw.items, item_used, &items.raw_ids);
  items.num_items = static_cast<int64_t>(items.raw_ids.size());
  build_item_table(raw, item_dense, &items);

  // Sequences in dense user order.
  auto& us = out.users;
  int64_t total = 0;
  for (int32_t r : raw_user_of) total += start[r + 1] - start[r];
  us.user_ids.resize(static_cast<size_t>(num_users));
  std::iota(us.user_ids.begin(), us.user_ids.end(), 0);
  us.offsets.assign(1, 0);
  us.offsets.reserve(static_cast<size_t>(num_users) + 1);
  us.items.resize(static_cast<size_t>(total));
  us.times.resize(static_cast<size_t>(total));
  us.events.resize(static_cast<size_t>(total));
  int64_t pos = 0;
  for (int32_t r : raw_user_of) {
    for (int64_t k = start[r]; k < start[r + 1]; ++k, ++pos) {
      auto e = static_cast<size_t>(order[static_cast<size_t>(k)]);
      us.items[static_cast<size_t>(pos)] = item_dense[static_cast<size_t>(raw.item[e])];
      us.times[static_cast<size_t>(pos)] = raw.time[e];
      us.events[static_cast<size_t>(pos)] = raw.event[e];
    }
    us.offsets.push_back(pos);
  }
  // Split points.
  const auto& s = split;
  m.split = s.type;
  if (s.type == "temporal") {
    m.valid_cut_time =
        s.explicit_cuts ? s.valid_cut : quantile_cut(us.times, s.test_frac + s.valid_frac);
    m.test_cut_time = s.explicit_cuts ? s.test_cut : quantile_cut(us.times, s.test_frac);
  }
  us.valid_start.resize(static_cast<size_t>(num_users));
  us.test_start.resize(static_cast<size_t>(num_users));
  for (int64_t u = 0; u < num_users; ++u) {
    auto len = static_cast<int32_t>(us.length(u));
    auto su = static_cast<size_t>(u);
    if (s.type == "leave-one-out") {
      us.valid_start[su] = len - 2;
      us.test_start[su] = len - 1;
    } else {
      auto b = us.times.begin() + us.offsets[su], e = us.times.begin() + us.offsets[su + 1];
      us.valid_start[su] = static_cast<int32_t>(std::lower_bound(b, e, m.valid_cut_time) - b);
      us.test_start[su] = static_cast<int32_t>(std::lower_bound(b, e, m.test_cut_time) - b);
    }
  }
  items.popularity = train_popularity(us, items.num_items);

  out.user_shard.resize(static_cast<size_t>(num_users));
  for (int64_t u = 0; u < num_users; ++u) {
    out.user_shard[static_cast<size_t>(u)] =
        shard_of(m.user_raw_ids[static_cast<size_t>(u)], options.num_shards);
  }
  m.source = raw.source;
  m.input = raw.input;
  m.command = options.command;
  m.category_method = raw.category_method;
  m.num_users = num_users;
  m.num_items = items.num_items;
  m.num_interactions = total;
  m.num_categories = items.num_categories;
  m.num_attributes = items.num_attributes;
  m.content_dim = items.content_dim;
  return out;
}

}  // namespace divrec::data
