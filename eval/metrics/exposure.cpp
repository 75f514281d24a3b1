// Exposure metrics from integer histograms. Everything is a pure function of the histogram, in a
// fixed order, so every rank computes bit-identical values from the same reduced counts.
#include "eval/metrics/exposure.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "eval/rerank/exposure_policy.h"

namespace divrec::eval {

double catalog_coverage(const int64_t* counts, int64_t n) {
  if (n <= 0) return 0.0;
  int64_t exposed = 0;
  for (int64_t i = 0; i < n; ++i) exposed += counts[i] > 0;
  return static_cast<double>(exposed) / static_cast<double>(n);
}

double gini_index(const int64_t* counts, int64_t n) {
  if (n <= 0) return 0.0;
  std::vector<int64_t> x(counts, counts + n);
  std::sort(x.begin(), x.end());
  __int128 numerator = 0, total = 0;
  for (int64_t i = 0; i < n; ++i) {
    numerator += static_cast<__int128>(2 * (i + 1) - n - 1) * x[static_cast<size_t>(i)];
    total += x[static_cast<size_t>(i)];
  }
  if (total == 0) return 0.0;
  return static_cast<double>(numerator) / (static_cast<double>(n) * static_cast<double>(total));
}

double exposure_entropy_bits(const int64_t* counts, int64_t n) {
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) total += counts[i];
  if (total == 0) return 0.0;
  const double t = static_cast<double>(total);
  double h = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (counts[i] <= 0) continue;
    const double p = static_cast<double>(counts[i]) / t;
    h -= p * std::log2(p);
  }
  return h;
}

double long_tail_share(const int64_t* counts, const uint8_t* head, int64_t n) {
  int64_t total = 0, tail = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += counts[i];
    if (!head[i]) tail += counts[i];
  }
  return total > 0 ? static_cast<double>(tail) / static_cast<double>(total) : 0.0;
}

double total_variation(const std::vector<double>& a, const std::vector<double>& b) {
  DIVREC_CHECK(a.size() == b.size(), "total variation of distributions of different sizes ",
               a.size(), " and ", b.size());
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return 0.5 * s;
}

std::shared_ptr<const ExposureContext> ExposureContext::make(const data::ItemTable& items,
                                                             double head_fraction) {
  DIVREC_CHECK(head_fraction >= 0 && head_fraction <= 1, "head fraction must be in [0, 1], got ",
               head_fraction);
  DIVREC_CHECK(static_cast<int64_t>(items.popularity.size()) == items.num_items,
               "exposure metrics need train popularity for every item: ", items.popularity.size(),
               " values for ", items.num_items, " items");
  auto ctx = std::make_shared<ExposureContext>();
  const int64_t n = items.num_items;
  ctx->num_items = n;
  ctx->num_categories = items.num_categories;
  ctx->head_fraction = head_fraction;
  ctx->category =
      items.category.empty() ? std::vector<int32_t>(static_cast<size_t>(n), -1) : items.category;
  const std::vector<int32_t> order = items_by_popularity(items);
  const int64_t head_size = static_cast<int64_t>(std::ceil(head_fraction * static_cast<double>(n)));
  ctx->head.assign(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < head_size && i < n; ++i) ctx->head[static_cast<size_t>(order[i])] = 1;
  ctx->catalog_share.assign(static_cast<size_t>(std::max<int64_t>(items.num_categories, 0)), 0.0);
  int64_t categorised = 0;
  for (int32_t c : ctx->category) {
    if (c < 0) continue;
    DIVREC_CHECK(c < items.num_categories, "item category ", c, " outside [0, ",
                 items.num_categories, ")");
    ctx->catalog_share[static_cast<size_t>(c)] += 1;
    ++categorised;
  }
  for (double& s : ctx->catalog_share) s = categorised > 0 ? s / categorised : 0.0;
  return ctx;
}

std::vector<double> ExposureContext::category_share(const int64_t* item_counts) const {
  std::vector<int64_t> per(static_cast<size_t>(num_categories), 0);
  int64_t total = 0;
  for (int64_t i = 0; i < num_items; ++i) {
    const int32_t c = category[static_cast<size_t>(i)];
    if (c < 0) continue;
    per[static_cast<size_t>(c)] += item_counts[i];
    total += item_counts[i];
  }
  std::vector<double> share(per.size(), 0.0);
  if (total > 0) {
    for (size_t c = 0; c < per.size(); ++c) {
      share[c] = static_cast<double>(per[c]) / static_cast<double>(total);
    }
  }
  return share;
}

}  // namespace divrec::eval
