// UserSequences accessors (see dataset.h).
#include "data_shards/dataset.h"

#include <algorithm>

#include "core/check.h"

namespace divrec::data {

bool ItemTable::any_content_missing() const {
  for (uint8_t h : has_content) {
    if (h == 0) return true;
  }
  return false;
}

int64_t ItemTable::longest_text() const {
  int64_t longest = 0;
  for (size_t i = 1; i < text_offsets.size(); ++i)
    longest = std::max(longest, text_offsets[i] - text_offsets[i - 1]);
  return longest;
}

int64_t UserSequences::history_end(int64_t u, Split split) const {
  switch (split) {
    case Split::kTrain: return valid_start[u];
    case Split::kValid: return valid_start[u];
    case Split::kTest: return test_start[u];
  }
  return 0;
}

std::pair<int64_t, int64_t> UserSequences::targets(int64_t u, Split split) const {
  switch (split) {
    case Split::kTrain: return {0, 0};
    case Split::kValid: return {valid_start[u], test_start[u]};
    case Split::kTest: return {test_start[u], length(u)};
  }
  return {0, 0};
}

void UserSequences::append_user(int64_t user_id, const std::vector<int32_t>& items_,
                                const std::vector<int64_t>& times_,
                                const std::vector<int8_t>& events_, int32_t valid_start_,
                                int32_t test_start_) {
  DIVREC_CHECK(items_.size() == times_.size() && items_.size() == events_.size(),
               "user ", user_id, ": items/times/events lengths differ");
  DIVREC_CHECK(0 <= valid_start_ && valid_start_ <= test_start_ &&
                   test_start_ <= static_cast<int32_t>(items_.size()),
               "user ", user_id, ": bad split points ", valid_start_, ", ", test_start_);
  user_ids.push_back(user_id);
  items.insert(items.end(), items_.begin(), items_.end());
  times.insert(times.end(), times_.begin(), times_.end());
  events.insert(events.end(), events_.begin(), events_.end());
  offsets.push_back(static_cast<int64_t>(items.size()));
  valid_start.push_back(valid_start_);
  test_start.push_back(test_start_);
}

}  // namespace divrec::data
