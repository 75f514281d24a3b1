// How a list's candidates are found: exact (the blocked kernel over the whole catalog), ann (an
// AnnIndex proposes candidates that the exact kernel re-scores) or auto (ann from a documented
// catalog size on, when an index exists). Shared by export, eval, recommend and serve.
#pragma once

#include <cstdint>
#include <string>

#include "eval/retrieval/ann_index.h"

namespace divrec::eval {

enum class RetrievalMode { kExact, kAnn, kAuto };

// auto uses ANN from this many items on: below it the exact kernel answers a request in a few
// milliseconds (12 k items: ~1 ms; 1 M items: ~23 ms per request, docs/results.md).
inline constexpr int64_t kAutoAnnMinItems = 200'000;
// ANN fetches max(this, N) + |history| candidates before the exact re-scoring and the mask.
inline constexpr int kAnnMinCandidates = 200;

// "exact" | "ann" | "auto"; throws naming `option` otherwise.
RetrievalMode parse_retrieval_mode(const std::string& name, const std::string& option);
const char* retrieval_mode_name(RetrievalMode mode);

struct RetrievalOptions {
  RetrievalMode mode = RetrievalMode::kExact;
  AnnSearchParams search;  // ef_search / nprobe; threads stays 1 per request
  int min_candidates = kAnnMinCandidates;
};

// Whether `mode` asks for an ANN index over `items` items: ann always, auto from
// kAutoAnnMinItems on, exact never.
bool wants_ann(RetrievalMode mode, int64_t items);

}  // namespace divrec::eval
