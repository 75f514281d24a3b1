// Per-list diversity, coverage, calibration, novelty and serendipity. Lists are short, so sets
// are sorted scratch vectors; nothing allocates once the scratch has grown.
#include "eval/metrics/diversity.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "eval/rerank/calibrated.h"
#include "eval/rerank/constraints.h"

namespace divrec::eval {

namespace {

int top_of(int len, int k) { return std::max(0, std::min(len, k)); }

bool contains(const int32_t* v, int n, int32_t x) { return std::find(v, v + n, x) != v + n; }

}  // namespace

double intra_list_diversity(const int32_t* list, int len, int k, const ItemSimilarity& sim,
                            std::vector<float>& row) {
  const int n = top_of(len, k);
  if (n < 2) return 0.0;
  row.resize(std::max<size_t>(row.size(), static_cast<size_t>(n)));
  double sum = 0;
  for (int i = 1; i < n; ++i) {
    sim.row(list[i], list, i, row.data());
    for (int j = 0; j < i; ++j) sum += 1.0 - row[static_cast<size_t>(j)];
  }
  return sum / (0.5 * n * (n - 1));
}

double category_ild(const int32_t* list, int len, int k, const data::ItemTable& table) {
  const int n = top_of(len, k);
  if (n < 2) return 0.0;
  int64_t differ = 0;
  for (int i = 1; i < n; ++i) {
    const int32_t ci = category_of(table, list[i]);
    for (int j = 0; j < i; ++j) differ += category_of(table, list[j]) != ci;
  }
  return static_cast<double>(differ) / (0.5 * n * (n - 1));
}

int distinct_categories(const int32_t* list, int len, int k, const data::ItemTable& table,
                        std::vector<int32_t>& scratch) {
  scratch.clear();
  for (int i = 0, n = top_of(len, k); i < n; ++i) {
    const int32_t c = category_of(table, list[i]);
    if (c >= 0) scratch.push_back(c);
  }
  std::sort(scratch.begin(), scratch.end());
  return static_cast<int>(std::unique(scratch.begin(), scratch.end()) - scratch.begin());
}

int distinct_attributes(const int32_t* list, int len, int k, const data::ItemTable& table,
                        std::vector<int32_t>& scratch) {
  scratch.clear();
  for (int i = 0, n = top_of(len, k); i < n; ++i) {
    const int64_t na = attr_count(table, list[i]);
    if (na > 0) scratch.insert(scratch.end(), table.attrs(list[i]), table.attrs(list[i]) + na);
  }
  std::sort(scratch.begin(), scratch.end());
  return static_cast<int>(std::unique(scratch.begin(), scratch.end()) - scratch.begin());
}

double category_coverage(const int32_t* list, int len, int k, const data::ItemTable& table,
                         std::vector<int32_t>& scratch) {
  const int64_t denom = std::min<int64_t>(k, table.num_categories);
  if (denom <= 0) return 0.0;
  return static_cast<double>(distinct_categories(list, len, k, table, scratch)) /
         static_cast<double>(denom);
}

double alpha_ndcg(const int32_t* list, int len, int k, const int32_t* targets, int num_targets,
                  const data::ItemTable& table, const std::vector<int64_t>& category_size,
                  double alpha, std::vector<int32_t>& scratch) {
  DIVREC_CHECK(alpha >= 0 && alpha <= 1, "alpha-NDCG needs alpha in [0, 1], got ", alpha);
  // scratch = [target categories (sorted, distinct) | listed count per target category]
  scratch.clear();
  for (int j = 0; j < num_targets; ++j) {
    const int32_t c = category_of(table, targets[j]);
    if (c >= 0) scratch.push_back(c);
  }
  std::sort(scratch.begin(), scratch.end());
  const int m = static_cast<int>(std::unique(scratch.begin(), scratch.end()) - scratch.begin());
  if (m == 0) return 0.0;
  scratch.resize(static_cast<size_t>(2 * m));
  std::fill(scratch.begin() + m, scratch.end(), 0);
  const double keep = 1.0 - alpha;
  const int n = top_of(len, k);
  double dcg = 0;
  for (int p = 0; p < n; ++p) {
    const int32_t c = category_of(table, list[p]);
    auto it = std::lower_bound(scratch.begin(), scratch.begin() + m, c);
    if (c < 0 || it == scratch.begin() + m || *it != c) continue;
    int32_t& seen = scratch[static_cast<size_t>(m + (it - scratch.begin()))];
    dcg += std::pow(keep, seen) / std::log2(p + 2.0);
    ++seen;
  }
  // Ideal: round j gives (1 - alpha)^j to every target category with more than j catalog items.
  double idcg = 0;
  int p = 0;
  for (int64_t j = 0; p < k; ++j) {
    int produced = 0;
    for (int t = 0; t < m && p < k; ++t) {
      const int32_t c = scratch[static_cast<size_t>(t)];
      if (category_size[static_cast<size_t>(c)] <= j) continue;
      idcg += std::pow(keep, static_cast<double>(j)) / std::log2(p + 2.0);
      ++p;
      ++produced;
    }
    if (produced == 0) break;
  }
  return idcg > 0 ? dcg / idcg : 0.0;
}

double list_calibration_kl(const int32_t* list, int len, int k, const data::ItemTable& table,
                           const CategoryDistribution& p, double alpha,
                           std::vector<double>& scratch) {
  DIVREC_CHECK(!p.empty(), "calibration KL needs a history with at least one categorised item");
  scratch.assign(p.size(), 0.0);
  int64_t listed = 0;
  for (int i = 0, n = top_of(len, k); i < n; ++i) {
    const int32_t c = category_of(table, list[i]);
    if (c < 0) continue;
    ++listed;
    const int j = p.find(c);
    if (j >= 0) scratch[static_cast<size_t>(j)] += 1;
  }
  return calibration_kl(p.probs.data(), scratch.data(), p.size(), listed, alpha);
}

std::vector<double> item_self_information(const data::ItemTable& table) {
  DIVREC_CHECK(static_cast<int64_t>(table.popularity.size()) == table.num_items,
               "novelty needs train popularity for every item: ", table.popularity.size(),
               " values for ", table.num_items, " items");
  double total = static_cast<double>(table.num_items);
  for (int64_t p : table.popularity) total += static_cast<double>(p);
  std::vector<double> info(table.popularity.size());
  for (size_t i = 0; i < info.size(); ++i) {
    info[i] = -std::log2((static_cast<double>(table.popularity[i]) + 1.0) / total);
  }
  return info;
}

double novelty(const int32_t* list, int len, int k, const std::vector<double>& self_information) {
  const int n = top_of(len, k);
  if (n == 0) return 0.0;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += self_information[static_cast<size_t>(list[i])];
  return sum / n;
}

double serendipity(const int32_t* list, int len, int k, const int32_t* targets, int num_targets,
                   const data::ItemTable& table, const CategoryDistribution& history) {
  const int n = top_of(len, k);
  if (n == 0) return 0.0;
  int count = 0;
  for (int p = 0; p < n; ++p) {
    const int32_t item = list[p];
    if (!contains(targets, num_targets, item) || contains(list, p, item)) continue;
    const int32_t c = category_of(table, item);
    if (c >= 0 && history.find(c) < 0) ++count;
  }
  return static_cast<double>(count) / n;
}

}  // namespace divrec::eval
