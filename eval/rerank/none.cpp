// Relevance order: the gain is the normalised relevance itself.
#include "eval/rerank/none.h"

#include <algorithm>

namespace divrec::eval {

void NoneReranker::gains(const GreedyList& list, Workspace&, float* gain) const {
  std::copy(list.rel, list.rel + list.n, gain);
}

}  // namespace divrec::eval
