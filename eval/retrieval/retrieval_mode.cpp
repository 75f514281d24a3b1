// Retrieval mode names and the auto rule (see retrieval_mode.h).
#include "eval/retrieval/retrieval_mode.h"

#include "core/check.h"

namespace divrec::eval {

RetrievalMode parse_retrieval_mode(const std::string& name, const std::string& option) {
  if (name == "exact") return RetrievalMode::kExact;
  if (name == "ann") return RetrievalMode::kAnn;
  if (name == "auto") return RetrievalMode::kAuto;
  DIVREC_FAIL(option, ": unknown retrieval '", name, "'; valid: exact, ann, auto");
}

const char* retrieval_mode_name(RetrievalMode mode) {
  switch (mode) {
    case RetrievalMode::kExact:
      return "exact";
    case RetrievalMode::kAnn:
      return "ann";
    case RetrievalMode::kAuto:
      return "auto";
  }
  return "?";
}

bool wants_ann(RetrievalMode mode, int64_t items) {
  return mode == RetrievalMode::kAnn || (mode == RetrievalMode::kAuto && items >= kAutoAnnMinItems);
}

}  // namespace divrec::eval
