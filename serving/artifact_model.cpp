// rebuild_model (see artifact_model.h).
#include "serving/artifact_model.h"

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include "core/check.h"
#include "trainer/model/item_features.h"

namespace divrec::serving {

model::SeqModel rebuild_model(const Artifact& a) {
  model::SeqModel m(a.config, model::ItemFeatures::from_table(a.items));
  m->eval();
  {
    // Copy the weights by name; the artifact must hold exactly the model's tensors.
    torch::NoGradGuard no_grad;
    auto params = m->named_parameters(true);
    std::set<std::string> expected, given(a.weight_names.begin(), a.weight_names.end());
    for (const auto& p : params) expected.insert(p.key());
    std::vector<std::string> missing, extra;
    for (const auto& n : expected) {
      if (!given.count(n)) missing.push_back(n);
    }
    for (const auto& n : given) {
      if (!expected.count(n)) extra.push_back(n);
    }
    DIVREC_CHECK_HINT(missing.empty() && extra.empty(), "re-export the model with `divrec export`",
                      "serving artifact: weights do not match the model config (missing: [",
                      fmt::format("{}", fmt::join(missing, ", ")), "]; unexpected: [",
                      fmt::format("{}", fmt::join(extra, ", ")), "])");
    for (size_t i = 0; i < a.weight_names.size(); ++i) {
      auto& dst = params[a.weight_names[i]];
      const auto& src = a.weights[i];
      DIVREC_CHECK_HINT(dst.sizes() == src.sizes(), "re-export the model with `divrec export`",
                        "serving artifact: weight '", a.weight_names[i], "' has shape ",
                        src.sizes(), ", the model expects ", dst.sizes());
      dst.copy_(src);
    }
  }
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  return m;
}

}  // namespace divrec::serving
