// What re-rankers and metrics know about a user: the history item ids and the history's category
// distribution p(c|u) (xQuAD's aspect weights, calibration's target, serendipity's "expected").
#pragma once

#include <cstdint>
#include <vector>

#include "data_shards/dataset.h"

namespace divrec::eval {

// Sparse p(c|u): the share of history items in each category; items without a category (-1)
// are skipped. Empty when no history item has a category.
struct CategoryDistribution {
  std::vector<int32_t> categories;  // ascending, each with p > 0
  std::vector<double> probs;        // same length, sums to 1

  bool empty() const { return categories.empty(); }
  size_t size() const { return categories.size(); }
  // Recomputes from history items (reuses this object's buffers).
  void compute(const int32_t* items, int64_t n, const data::ItemTable& table);
  // p(c|u), 0 for categories not in the history.
  double prob(int32_t category) const;
  // Index of `category` in `categories`, or -1.
  int find(int32_t category) const;
};

// A view of the user: history item ids (time order) and optionally a precomputed distribution.
// When `categories` is null, methods that need p(c|u) compute it into the Workspace.
struct UserContext {
  const int32_t* history = nullptr;
  int64_t history_size = 0;
  const CategoryDistribution* categories = nullptr;

  UserContext() = default;
  UserContext(const int32_t* h, int64_t n, const CategoryDistribution* dist = nullptr)
      : history(h), history_size(n), categories(dist) {}
};

}  // namespace divrec::eval
