// RunningTopN: one list's running top-n by score, higher first and equal scores by LOWER item id,
// kept in a heap whose front is the worst kept entry. The tie rule of the blocked scoring kernel
// (score_kernel.h) and of the IVF list scan (eval/retrieval/ivf_scan.h), which both use it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace divrec::model {

struct ScoredItem {
  float score;
  int32_t item;
};

// a ranks before b: higher score, then lower item id (a total order on non-NaN scores).
inline bool ranks_before(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

struct RunningTopN {
  std::vector<ScoredItem> heap;  // a heap under ranks_before: front() is the worst kept entry

  // Scores below this cannot enter (-inf until n entries are kept, then the worst kept score).
  float threshold(int64_t n) const {
    return static_cast<int64_t>(heap.size()) < n ? -std::numeric_limits<float>::infinity()
                                                 : heap.front().score;
  }
  // Keeps e if it ranks among the n best offered so far; a NaN score never enters.
  void offer(ScoredItem e, int64_t n) {
    if (static_cast<int64_t>(heap.size()) < n) {
      if (!(e.score == e.score)) return;  // NaN
      heap.push_back(e);
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    } else if (ranks_before(e, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), ranks_before);
      heap.back() = e;
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    }
  }
};

}  // namespace divrec::model
