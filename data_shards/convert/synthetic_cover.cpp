// --cover-items (see synthetic_cover.h). Walks the events in one seeded permutation and gives
// each not-yet-observed item an event whose current item occurs at least twice (so no item is
// lost), in three passes of decreasing preference: (1) events before a user's last two (the
// leave-one-out valid/test targets stay as generated) whose item has the same category as the
// new one, keeping the planted category structure; (2) such events of any category; (3) any
// event. Counts only fall, so one walk per pass finds every usable event: linear time.
#include "data_shards/convert/synthetic_cover.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/sampler.h"

namespace divrec::data {

void check_coverable(int64_t events, const SyntheticOptions& o) {
  if (events >= o.items) return;
  // Events are about users * mean_length; 2% margin for the random lengths.
  const double need = 1.02 * static_cast<double>(o.items) / static_cast<double>(events);
  DIVREC_CHECK_HINT(
      false,
      fmt::format("pass --users >= {:.0f} or --mean-length >= {:g} (events are about users x mean "
                  "length), or drop --cover-items",
                  std::ceil(need * static_cast<double>(o.users)), std::ceil(need * o.mean_length)),
      "synthetic --cover-items: ", o.users, " users with --mean-length ", o.mean_length, " make ",
      events, " events, fewer than the ", o.items, " --items that each need one");
}

void cover_all_items(const std::vector<int32_t>& category, int64_t num_categories, uint64_t seed,
                     RawDataset* raw) {
  auto& item = raw->item;
  const auto& user = raw->user;
  const auto n = static_cast<int64_t>(item.size());
  const auto C = static_cast<size_t>(num_categories);
  DIVREC_CHECK(n >= static_cast<int64_t>(category.size()), "internal: ", n, " events for ",
               category.size(), " items");
  std::vector<int32_t> count(category.size(), 0);
  for (int32_t i : item) ++count[static_cast<size_t>(i)];
  // Unobserved items grouped by category (ascending ids): missing[begin[c], begin[c+1]).
  std::vector<int64_t> begin(C + 1, 0);
  for (size_t i = 0; i < category.size(); ++i) {
    if (count[i] == 0) ++begin[static_cast<size_t>(category[i]) + 1];
  }
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<int32_t> missing(static_cast<size_t>(begin[C]));
  std::vector<int64_t> next(begin.begin(), begin.end() - 1);  // per category: next to place
  for (size_t i = 0; i < category.size(); ++i) {
    if (count[i] == 0) {
      missing[static_cast<size_t>(next[static_cast<size_t>(category[i])]++)] =
          static_cast<int32_t>(i);
    }
  }
  std::copy(begin.begin(), begin.end() - 1, next.begin());
  int64_t left = begin[C];
  core::log0("synthetic --cover-items: {} of {} items unobserved, {} events", left, category.size(),
             n);
  if (left == 0) return;

  size_t any = 0;  // first category that may still have items to place
  auto take = [&](int32_t c) -> int32_t {
    if (c < 0) {
      while (any < C && next[any] == begin[any + 1]) ++any;
      c = static_cast<int32_t>(any);
      if (any == C) return -1;
    }
    auto sc = static_cast<size_t>(c);
    return next[sc] < begin[sc + 1] ? missing[static_cast<size_t>(next[sc]++)] : -1;
  };
  // One of its user's last two events (users' blocks are contiguous).
  auto is_target = [&](int64_t k) {
    return k + 2 >= n || user[static_cast<size_t>(k + 2)] != user[static_cast<size_t>(k)];
  };
  const std::vector<int64_t> order = epoch_permutation(n, seed, 0);
  int64_t placed[3] = {0, 0, 0};
  for (int pass = 0; pass < 3 && left > 0; ++pass) {
    for (int64_t k : order) {
      if (pass < 2 && is_target(k)) continue;
      int32_t& it = item[static_cast<size_t>(k)];
      if (count[static_cast<size_t>(it)] < 2) continue;
      int32_t m = take(pass == 0 ? category[static_cast<size_t>(it)] : -1);
      if (m < 0) continue;
      --count[static_cast<size_t>(it)];
      count[static_cast<size_t>(m)] = 1;
      it = m;
      ++placed[pass];
      if (--left == 0) break;
    }
  }
  DIVREC_CHECK(left == 0, "internal: --cover-items left ", left, " items unplaced");
  core::log0(
      "synthetic --cover-items: overwrote {} events ({} same category, {} other category, {} "
      "valid/test targets)",
      placed[0] + placed[1] + placed[2], placed[0], placed[1], placed[2]);
}

}  // namespace divrec::data
