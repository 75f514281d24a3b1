// hold_out_cold_items (see cold_items.h).
#include "data_shards/cold_items.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/ids.h"

namespace divrec::data {

ColdHoldOut hold_out_cold_items(const RawDataset& raw, double fraction, uint64_t seed,
                                SplitOptions* split, std::vector<int64_t>* start,
                                std::vector<int64_t>* order) {
  DIVREC_CHECK_HINT(fraction >= 0 && fraction < 1, "pass --cold-items in [0, 1)", "--cold-items ",
                    fraction);
  ColdHoldOut out;
  if (fraction == 0) return out;
  // The items with events, in raw-id order, shuffled with the seed.
  std::vector<char> has_events(static_cast<size_t>(raw.items.size()), 0);
  for (int32_t i : raw.item) has_events[static_cast<size_t>(i)] = 1;
  std::vector<int32_t> subset;
  for (int32_t i = 0; i < raw.items.size(); ++i) {
    if (has_events[static_cast<size_t>(i)]) subset.push_back(i);
  }
  std::vector<int32_t> pool = sorted_by_name(raw.items.names(), subset);
  std::mt19937_64 rng(seed);
  for (size_t i = pool.size(); i > 1; --i) {
    std::swap(pool[i - 1], pool[static_cast<size_t>(rng() % i)]);
  }
  out.items = std::llround(fraction * static_cast<double>(pool.size()));
  if (out.items == 0) {
    core::log0("cold items: warning: --cold-items {} of {} items rounds to 0 items held out",
               fraction, pool.size());
  }
  std::vector<char>& cold = out.cold;
  cold.assign(static_cast<size_t>(raw.items.size()), 0);
  for (int64_t k = 0; k < out.items; ++k) cold[static_cast<size_t>(pool[k])] = 1;

  const bool loo = split->type == "leave-one-out";
  if (!loo && !split->explicit_cuts) {
    split->valid_cut = quantile_cut(raw.time, split->test_frac + split->valid_frac);
    split->test_cut = quantile_cut(raw.time, split->test_frac);
    split->explicit_cuts = true;
  }
  // Compact each user's events, keeping a cold item's event only where it is a test target.
  const size_t users = start->size() - 1;
  int64_t w = 0;
  int64_t begin = (*start)[0];
  for (size_t u = 0; u < users; ++u) {
    const int64_t end = (*start)[u + 1];
    (*start)[u] = w;
    for (int64_t k = begin; k < end; ++k) {
      const auto e = static_cast<size_t>((*order)[static_cast<size_t>(k)]);
      const bool test = loo ? k == end - 1 : raw.time[e] >= split->test_cut;
      if (cold[static_cast<size_t>(raw.item[e])] && !test) {
        ++out.removed_events;
        continue;
      }
      (*order)[static_cast<size_t>(w++)] = (*order)[static_cast<size_t>(k)];
    }
    begin = end;
  }
  (*start)[users] = w;
  order->resize(static_cast<size_t>(w));
  core::log0(
      "cold items: {} of {} items held out (seed {}); {} of their events removed, only "
      "test targets kept",
      out.items, pool.size(), seed, out.removed_events);
  return out;
}

}  // namespace divrec::data
