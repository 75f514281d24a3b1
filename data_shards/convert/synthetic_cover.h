// --cover-items for the synthetic converter: every catalog item gets at least one interaction,
// by overwriting items of already generated events, so no user's length or times change.
#pragma once

#include <cstdint>
#include <vector>

#include "data_shards/convert/converters.h"
#include "data_shards/raw_dataset.h"

namespace divrec::data {

// Fails (naming --users / --mean-length) when `events` cannot hold each of o.items once.
void check_coverable(int64_t events, const SyntheticOptions& o);

// Makes every item in [0, category.size()) occur in raw->item. raw's events must be grouped by
// user, each user's block in time order (as the synthetic loop writes them), every user with
// >= 3 events, and raw->item.size() >= category.size(). The rule is in docs/data-format.md.
void cover_all_items(const std::vector<int32_t>& category, int64_t num_categories, uint64_t seed,
                     RawDataset* raw);

}  // namespace divrec::data
