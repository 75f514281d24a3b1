// The constraint tracker: targets capped by the candidates (a cheap feasibility pre-check),
// filters, and the slot-reserving admission rule for count constraints.
#include "eval/rerank/constraint_tracker.h"

#include <algorithm>

#include "core/check.h"

namespace divrec::eval {

namespace {

// Multiplicative hash for the open-addressing set of item ids.
inline uint32_t slot_of(int32_t item, uint32_t mask) {
  return (static_cast<uint32_t>(item) * 2654435761u) & mask;
}

}  // namespace

ConstraintTracker::ConstraintTracker(const Constraints& c, const data::ItemTable& table,
                                     const int32_t* items, int n, int length, Workspace& ws)
    : c_(c), table_(table), items_(items), n_(n), ws_(ws) {
  for (int k = 0; k < kNumConstraintKinds; ++k) {
    if (c.enabled(static_cast<ConstraintKind>(k))) enabled_ |= 1u << k;
  }
  if (!active()) return;
  average_attrs_ = c.attrs_per_item_average;
  const size_t un = static_cast<size_t>(n);
  const size_t num_categories = static_cast<size_t>(std::max<int64_t>(table.num_categories, 1));

  // Static per-item filter (strict reading of min_attrs_per_item).
  uint8_t* ok = grow(ws.static_ok, un);
  for (int i = 0; i < n; ++i) {
    ok[i] = (c.min_attrs_per_item <= 0 || average_attrs_ ||
             attr_count(table, items[i]) >= c.min_attrs_per_item);
  }
  ws.cat_count.reset(num_categories);
  grow(ws.near_maxsim, un);
  std::fill(ws.near_maxsim.begin(), ws.near_maxsim.begin() + n, -1e30f);
  grow(ws.new_attrs, un);
  grow(ws.top_scratch, un);

  // Targets: what the (statically usable) candidates can reach at most.
  if (c.min_categories > 0) {
    ws.cat_avail.reset(num_categories);
    int distinct = 0;
    for (int i = 0; i < n; ++i) {
      int32_t cat = category_of(table, items[i]);
      if (ok[i] && cat >= 0 && ws.cat_avail.at(static_cast<size_t>(cat))++ == 0) ++distinct;
    }
    target_categories_ = std::min({c.min_categories, distinct, length});
  }
  if (c.min_attributes > 0) {
    DIVREC_CHECK(table.num_attributes > 0 || table.attr_ids.empty(),
                 "--min-attributes: the item table has attributes but num_attributes = 0");
    ws.attr_covered.reset(static_cast<size_t>(std::max<int64_t>(table.num_attributes, 1)));
    int distinct = 0;
    for (int i = 0; i < n; ++i) {
      const int64_t na = attr_count(table, items[i]);
      if (!ok[i] || na == 0) continue;
      const int32_t* a = table.attrs(items[i]);
      for (int64_t j = 0; j < na; ++j) {
        DIVREC_CHECK(a[j] >= 0 && a[j] < table.num_attributes, "item ", items[i],
                     " has attribute id ", a[j], " outside [0, ", table.num_attributes, ")");
        uint8_t& seen = ws.attr_covered.at(static_cast<size_t>(a[j]));
        if (!seen) ++distinct;
        seen = 1;
      }
    }
    target_attrs_ = std::min(c.min_attributes, distinct);
    ws.attr_covered.reset(static_cast<size_t>(std::max<int64_t>(table.num_attributes, 1)));
  }
  // The item-id set: capacity a power of two >= 2n, used for the pre-check, then for the list.
  uint32_t cap = 16;
  while (cap < 2u * static_cast<uint32_t>(std::max(n, 1))) cap <<= 1;
  set_mask_ = cap - 1;
  if (c.min_distinct > 0) {
    int32_t* set = grow(ws.item_set, cap);
    std::fill(set, set + cap, -1);
    for (int i = 0; i < n; ++i) {
      if (ok[i] && !in_list(items[i])) {
        insert_item(items[i]);
        ++distinct_items_;
      }
    }
    target_distinct_ = std::min({c.min_distinct, distinct_items_, length});
    distinct_items_ = 0;
    std::fill(ws.item_set.begin(), ws.item_set.begin() + cap, -1);
  }
  if (c.min_attrs_per_item > 0 && average_attrs_) {
    int32_t* v = ws.top_scratch.data();
    for (int i = 0; i < n; ++i) v[i] = static_cast<int32_t>(attr_count(table, items[i]));
    int64_t best = 0;
    int32_t sth = 0;
    top_sum(n, length, &best, &sth);
    target_attr_sum_ = std::min<int64_t>(static_cast<int64_t>(length) * c.min_attrs_per_item, best);
  }
}

bool ConstraintTracker::in_list(int32_t item) const {
  const int32_t* set = ws_.item_set.data();
  for (uint32_t s = slot_of(item, set_mask_);; s = (s + 1) & set_mask_) {
    if (set[s] == item) return true;
    if (set[s] < 0) return false;
  }
}

void ConstraintTracker::insert_item(int32_t item) {
  int32_t* set = ws_.item_set.data();
  uint32_t s = slot_of(item, set_mask_);
  while (set[s] >= 0 && set[s] != item) s = (s + 1) & set_mask_;
  set[s] = item;
}

void ConstraintTracker::top_sum(int m, int s, int64_t* sum, int32_t* sth) const {
  int32_t* v = ws_.top_scratch.data();
  *sum = 0;
  *sth = 0;
  if (s <= 0) return;
  if (m > s) {
    std::nth_element(v, v + (s - 1), v + m, [](int32_t a, int32_t b) { return a > b; });
    *sth = v[s - 1];
    m = s;
  }
  for (int i = 0; i < m; ++i) *sum += v[i];
}

bool ConstraintTracker::passes_filters(int i, ConstraintMask mask) const {
  if ((mask & mask_of(ConstraintKind::kAttrsPerItem)) && !ws_.static_ok[i]) return false;
  if (mask & mask_of(ConstraintKind::kMaxPerCategory)) {
    int32_t cat = category_of(table_, items_[i]);
    if (cat >= 0 && ws_.cat_count.get(static_cast<size_t>(cat)) >= c_.max_per_category) {
      return false;
    }
  }
  if ((mask & mask_of(ConstraintKind::kMaxSimilarity)) && ws_.near_maxsim[i] > c_.max_similarity) {
    return false;
  }
  return true;
}

void ConstraintTracker::prepare(ConstraintMask mask, int slots_left, const uint8_t* used) {
  slots_ = slots_left;
  const bool cats =
      (mask & mask_of(ConstraintKind::kMinCategories)) && distinct_categories_ < target_categories_;
  const bool attrs =
      (mask & mask_of(ConstraintKind::kMinAttributes)) && covered_attrs_ < target_attrs_;
  const bool sums = average_attrs_ && (mask & mask_of(ConstraintKind::kAttrsPerItem)) &&
                    attr_sum_ < target_attr_sum_;
  if (!cats && !attrs && !sums) return;
  int32_t* top = ws_.top_scratch.data();
  int m = 0;
  if (cats) {
    ws_.cat_avail.reset(static_cast<size_t>(std::max<int64_t>(table_.num_categories, 1)));
    new_categories_available_ = 0;
  }
  int32_t* new_attrs = ws_.new_attrs.data();
  // Candidates that could be picked in a later step (filters pass now), with what they add.
  for (int i = 0; i < n_ && (cats || attrs); ++i) {
    if (used[i] || !passes_filters(i, mask)) continue;
    const int32_t item = items_[i];
    if (cats) {
      int32_t cat = category_of(table_, item);
      if (cat >= 0 && ws_.cat_count.get(static_cast<size_t>(cat)) == 0 &&
          ws_.cat_avail.at(static_cast<size_t>(cat))++ == 0) {
        ++new_categories_available_;
      }
    }
    if (attrs) {
      int32_t fresh = 0;
      const int64_t na = attr_count(table_, item);
      const int32_t* a = na > 0 ? table_.attrs(item) : nullptr;
      for (int64_t j = 0; j < na; ++j) {
        fresh += ws_.attr_covered.get(static_cast<size_t>(a[j])) == 0;
      }
      new_attrs[i] = fresh;
      top[m++] = fresh;
    }
  }
  if (attrs) top_sum(m, slots_left, &attr_top_sum_, &attr_top_sth_);
  if (sums) {
    m = 0;
    for (int i = 0; i < n_; ++i) {
      if (!used[i] && passes_filters(i, mask)) {
        top[m++] = static_cast<int32_t>(attr_count(table_, items_[i]));
      }
    }
    top_sum(m, slots_left, &count_top_sum_, &count_top_sth_);
  }
}

int ConstraintTracker::reject(int i, ConstraintMask mask) const {
  const int32_t item = items_[i];
  const int32_t cat = category_of(table_, item);
  // Filters, in ConstraintKind order.
  if ((mask & mask_of(ConstraintKind::kAttrsPerItem)) && !ws_.static_ok[i]) {
    return static_cast<int>(ConstraintKind::kAttrsPerItem);
  }
  if ((mask & mask_of(ConstraintKind::kMaxPerCategory)) && cat >= 0 &&
      ws_.cat_count.get(static_cast<size_t>(cat)) >= c_.max_per_category) {
    return static_cast<int>(ConstraintKind::kMaxPerCategory);
  }
  if ((mask & mask_of(ConstraintKind::kMaxSimilarity)) && ws_.near_maxsim[i] > c_.max_similarity) {
    return static_cast<int>(ConstraintKind::kMaxSimilarity);
  }
  // Count constraints: admit i only if, after it, the other slots_ - 1 picks can still close the
  // deficit by an optimistic (necessary) bound.
  const int rest = slots_ - 1;
  if (average_attrs_ && (mask & mask_of(ConstraintKind::kAttrsPerItem))) {
    int64_t need = target_attr_sum_ - attr_sum_;
    if (need > 0) {
      int32_t a = static_cast<int32_t>(attr_count(table_, item));
      if (need - a > count_top_sum_ - std::max(a, count_top_sth_)) {
        return static_cast<int>(ConstraintKind::kAttrsPerItem);
      }
    }
  }
  if (mask & mask_of(ConstraintKind::kMinCategories)) {
    int need = target_categories_ - distinct_categories_;
    if (need > 0) {
      bool adds = cat >= 0 && ws_.cat_count.get(static_cast<size_t>(cat)) == 0;
      int others = new_categories_available_ -
                   ((adds && ws_.cat_avail.get(static_cast<size_t>(cat)) == 1) ? 1 : 0);
      if (need - (adds ? 1 : 0) > std::min(rest, others)) {
        return static_cast<int>(ConstraintKind::kMinCategories);
      }
    }
  }
  if (mask & mask_of(ConstraintKind::kMinAttributes)) {
    int need = target_attrs_ - covered_attrs_;
    if (need > 0) {
      int32_t a = ws_.new_attrs[i];
      if (need - a > attr_top_sum_ - std::max(a, attr_top_sth_)) {
        return static_cast<int>(ConstraintKind::kMinAttributes);
      }
    }
  }
  if (mask & mask_of(ConstraintKind::kMinDistinct)) {
    int need = target_distinct_ - distinct_items_;
    if (need > 0 && need - (in_list(item) ? 0 : 1) > rest) {
      return static_cast<int>(ConstraintKind::kMinDistinct);
    }
  }
  return -1;
}

void ConstraintTracker::commit(int i, const float* sim_row) {
  if (!active()) return;
  const int32_t item = items_[i];
  const int32_t cat = category_of(table_, item);
  if (cat >= 0 && ws_.cat_count.at(static_cast<size_t>(cat))++ == 0) ++distinct_categories_;
  const int64_t na = attr_count(table_, item);
  attr_sum_ += na;
  if ((enabled_ & mask_of(ConstraintKind::kMinAttributes)) && na > 0) {
    const int32_t* a = table_.attrs(item);
    for (int64_t j = 0; j < na; ++j) {
      uint8_t& seen = ws_.attr_covered.at(static_cast<size_t>(a[j]));
      if (!seen) ++covered_attrs_;
      seen = 1;
    }
  }
  if ((enabled_ & mask_of(ConstraintKind::kMinDistinct)) && !in_list(item)) {
    insert_item(item);
    ++distinct_items_;
  }
  if (needs_similarity()) {
    float* m = ws_.near_maxsim.data();
    for (int j = 0; j < n_; ++j) m[j] = sim_row[j] > m[j] ? sim_row[j] : m[j];
  }
}

}  // namespace divrec::eval
