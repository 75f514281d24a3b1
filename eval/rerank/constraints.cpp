// Constraint names, validation, and the exact check of a finished list (the ground truth for
// RerankResult::feasible and for the constraint-satisfaction metrics).
#include "eval/rerank/constraints.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/check.h"

namespace divrec::eval {

const char* constraint_name(ConstraintKind kind) {
  switch (kind) {
    case ConstraintKind::kAttrsPerItem:
      return "min_attrs_per_item";
    case ConstraintKind::kMaxPerCategory:
      return "max_per_category";
    case ConstraintKind::kMaxSimilarity:
      return "max_similarity";
    case ConstraintKind::kMinCategories:
      return "min_categories";
    case ConstraintKind::kMinAttributes:
      return "min_attributes";
    case ConstraintKind::kMinDistinct:
      return "min_distinct";
  }
  return "?";
}

bool Constraints::enabled(ConstraintKind kind) const {
  switch (kind) {
    case ConstraintKind::kAttrsPerItem:
      return min_attrs_per_item > 0;
    case ConstraintKind::kMaxPerCategory:
      return max_per_category > 0;
    case ConstraintKind::kMaxSimilarity:
      return std::isfinite(max_similarity);
    case ConstraintKind::kMinCategories:
      return min_categories > 0;
    case ConstraintKind::kMinAttributes:
      return min_attributes > 0;
    case ConstraintKind::kMinDistinct:
      return min_distinct > 0;
  }
  return false;
}

bool Constraints::any() const {
  for (int k = 0; k < kNumConstraintKinds; ++k) {
    if (enabled(static_cast<ConstraintKind>(k))) return true;
  }
  return false;
}

std::string Constraints::describe() const {
  std::ostringstream os;
  const char* sep = "";
  auto put = [&](const char* name, auto value) {
    os << sep << name << "=" << value;
    sep = " ";
  };
  if (min_categories > 0) put("min_categories", min_categories);
  if (max_per_category > 0) put("max_per_category", max_per_category);
  if (min_attributes > 0) put("min_attributes", min_attributes);
  if (min_attrs_per_item > 0) {
    put(attrs_per_item_average ? "min_attrs_per_item(average)" : "min_attrs_per_item",
        min_attrs_per_item);
  }
  if (std::isfinite(max_similarity)) put("max_similarity", max_similarity);
  if (min_distinct > 0) put("min_distinct", min_distinct);
  std::string s = os.str();
  return s.empty() ? "none" : s;
}

void validate(const Constraints& c) {
  DIVREC_CHECK(c.min_categories >= 0, "--min-categories must be >= 0, got ", c.min_categories);
  DIVREC_CHECK(c.max_per_category >= 0, "--max-per-category must be >= 0 (0 = off), got ",
               c.max_per_category);
  DIVREC_CHECK(c.min_attributes >= 0, "--min-attributes must be >= 0, got ", c.min_attributes);
  DIVREC_CHECK(c.min_attrs_per_item >= 0, "--min-attrs-per-item must be >= 0, got ",
               c.min_attrs_per_item);
  DIVREC_CHECK(!std::isnan(c.max_similarity), "--max-similarity must be a number");
  DIVREC_CHECK(c.min_distinct >= 0, "--min-distinct must be >= 0, got ", c.min_distinct);
}

namespace {

// Number of distinct values in v[0..n) (sorts v).
int count_distinct(int32_t* v, size_t n) {
  std::sort(v, v + n);
  return static_cast<int>(std::unique(v, v + n) - v);
}

}  // namespace

void violated_constraints(const int32_t* items, int n, const Constraints& c,
                          const data::ItemTable& table, const ItemSimilarity& sim, Workspace& ws,
                          std::vector<ConstraintKind>& out) {
  out.clear();
  std::vector<int32_t>& buf = ws.check_scratch;
  if (c.enabled(ConstraintKind::kAttrsPerItem)) {
    int64_t total = 0;
    bool every = true;
    for (int i = 0; i < n; ++i) {
      int64_t a = attr_count(table, items[i]);
      total += a;
      every = every && a >= c.min_attrs_per_item;
    }
    bool ok =
        c.attrs_per_item_average ? total >= static_cast<int64_t>(n) * c.min_attrs_per_item : every;
    if (!ok) out.push_back(ConstraintKind::kAttrsPerItem);
  }
  // Categories of the list, sorted (shared by max_per_category and min_categories).
  buf.clear();
  for (int i = 0; i < n; ++i) {
    int32_t cat = category_of(table, items[i]);
    if (cat >= 0) buf.push_back(cat);
  }
  std::sort(buf.begin(), buf.end());
  if (c.enabled(ConstraintKind::kMaxPerCategory)) {
    int run = 0;
    bool ok = true;
    for (size_t i = 0; i < buf.size(); ++i) {
      run = (i > 0 && buf[i] == buf[i - 1]) ? run + 1 : 1;
      ok = ok && run <= c.max_per_category;
    }
    if (!ok) out.push_back(ConstraintKind::kMaxPerCategory);
  }
  int num_categories = count_distinct(buf.data(), buf.size());
  if (c.enabled(ConstraintKind::kMaxSimilarity)) {
    float* row = grow(ws.check_sim, static_cast<size_t>(std::max(n, 1)));
    bool ok = true;
    for (int i = 1; i < n && ok; ++i) {
      sim.row(items[i], items, i, row);  // the same kernel as the greedy uses
      for (int j = 0; j < i; ++j) ok = ok && !(row[j] > c.max_similarity);
    }
    if (!ok) out.push_back(ConstraintKind::kMaxSimilarity);
  }
  if (c.enabled(ConstraintKind::kMinCategories) && num_categories < c.min_categories) {
    out.push_back(ConstraintKind::kMinCategories);
  }
  if (c.enabled(ConstraintKind::kMinAttributes)) {
    buf.clear();
    for (int i = 0; i < n; ++i) {
      const int64_t na = attr_count(table, items[i]);
      if (na > 0) buf.insert(buf.end(), table.attrs(items[i]), table.attrs(items[i]) + na);
    }
    if (count_distinct(buf.data(), buf.size()) < c.min_attributes) {
      out.push_back(ConstraintKind::kMinAttributes);
    }
  }
  if (c.enabled(ConstraintKind::kMinDistinct)) {
    buf.assign(items, items + n);
    if (count_distinct(buf.data(), buf.size()) < c.min_distinct) {
      out.push_back(ConstraintKind::kMinDistinct);
    }
  }
}

std::vector<ConstraintKind> violated_constraints(const std::vector<int32_t>& items,
                                                 const Constraints& c, const data::ItemTable& table,
                                                 const ItemSimilarity& sim) {
  Workspace ws;
  std::vector<ConstraintKind> out;
  violated_constraints(items.data(), static_cast<int>(items.size()), c, table, sim, ws, out);
  return out;
}

}  // namespace divrec::eval
