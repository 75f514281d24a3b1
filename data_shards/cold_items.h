// Cold-start hold-out for `shard convert --cold-items FRACTION`: a seeded share of the catalog's
// items keeps only the events that are test targets, so training and validation never see an
// interaction with them (train popularity 0): eval's `cold` slice measures how well the model
// ranks them from their side information alone.
#pragma once

#include <cstdint>
#include <vector>

#include "data_shards/raw_dataset.h"

namespace divrec::data {

struct ColdHoldOut {
  int64_t items = 0;           // items chosen (raw items with events)
  int64_t removed_events = 0;  // their events that were not test targets
  // [raw items] 1 = held out. They stay in the catalog even when no test target is left to them:
  // a new item is in the catalog before anyone interacts with it, so the cold items compete
  // with each other (and with every warm item) at evaluation.
  std::vector<char> cold;
};

// Applies the hold-out to the time-ordered events of each raw user: user u's events are
// order[start[u] .. start[u + 1]) (indices into raw's arrays); both arrays are compacted in place.
// Chooses round(fraction * n) of the n raw items that have events by a Fisher-Yates shuffle
// (std::mt19937_64(seed)) of them in raw-id order, so the same input and seed give the same
// items. Test targets: a user's last event (leave-one-out) or events at or after the test cut
// (temporal); a temporal split without explicit cuts gets them here, from all events' times
// before the hold-out, and `split` is set to those explicit cuts so later steps keep them.
// Throws: fraction outside [0, 1).
ColdHoldOut hold_out_cold_items(const RawDataset& raw, double fraction, uint64_t seed,
                                SplitOptions* split, std::vector<int64_t>* start,
                                std::vector<int64_t>* order);

}  // namespace divrec::data
