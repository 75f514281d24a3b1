// Global exposure metrics, computed once from the all-reduced item exposure histogram (how often
// each item was recommended in a top K): catalog coverage, Gini index, Shannon entropy, long-tail
// share, and each category's share of exposure against its share of the catalog.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::eval {

// Items exposed at least once / number of items.
double catalog_coverage(const int64_t* counts, int64_t n);
// Gini index over ALL n items (zeros included), sorted ascending x_(1..n):
// G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i); 0 when nothing was exposed. Exact integer
// numerator, so equal histograms give bit-equal results.
double gini_index(const int64_t* counts, int64_t n);
// Shannon entropy in bits of the exposure distribution p_i = x_i / sum x (0 when empty).
double exposure_entropy_bits(const int64_t* counts, int64_t n);
// Share of exposures that went to items outside the head (head[i] = 1); 0 when empty.
double long_tail_share(const int64_t* counts, const uint8_t* head, int64_t n);
// Total variation distance 1/2 sum |a_c - b_c|.
double total_variation(const std::vector<double>& a, const std::vector<double>& b);

// What the global metrics need to know about the catalog, built once and shared by every
// accumulator (per thread / per rank).
struct ExposureContext {
  int64_t num_items = 0;
  int64_t num_categories = 0;
  std::vector<int32_t> category;      // [I], -1 = none
  std::vector<uint8_t> head;          // [I], 1 = among the top head_fraction by train popularity
  std::vector<double> catalog_share;  // [C] share of categorised catalog items in each category
  double head_fraction = 0.2;

  // Head = the ceil(fraction * I) most popular items in the train split (ties: lower id first).
  static std::shared_ptr<const ExposureContext> make(const data::ItemTable& items,
                                                     double head_fraction = 0.2);
  // Exposure share of each category among exposures of categorised items (zeros when none).
  std::vector<double> category_share(const int64_t* item_counts) const;
};

}  // namespace divrec::eval
