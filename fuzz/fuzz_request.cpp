// The body of POST /v1/recommend (and `divrec recommend` request lines): JSON text -> request
// with per-field errors and the server's limits (serving::parse_request).
#include "fuzz/fuzz_util.h"
#include "serving/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  static const serving::RecommendSettings defaults;
  static const serving::RequestLimits limits;
  const std::string body(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    auto req = serving::parse_request(body, defaults, limits);
    // What the recommender does first with a parsed request.
    serving::validate(req.settings);
  });
  return 0;
}
