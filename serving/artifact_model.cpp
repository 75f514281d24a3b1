// rebuild_model (see artifact_model.h).
#include "serving/artifact_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (there since fmt 11: the PyPI LibTorch 2.x build)

#include <set>
#include <string>
#include <vector>

#include "core/check.h"
#include "trainer/model/item_features.h"

namespace divrec::serving {

namespace {
constexpr const char* kItemIdWeight = "item_encoder.item_id.weight";
}  // namespace

namespace {

// `take`: the same artifact as `a`, to move its item content from (nullptr = copy it).
model::SeqModel rebuild(const Artifact& a, IdTable ids, Artifact* take) {
  // The item-id table ([I, D]: 2.5 GB at 10 M items) is adopted, not copied: the model is built
  // with an external id table, so no catalog-sized matrix is randomly initialised only to be
  // overwritten, and the artifact's tensor is attached (item_encoder.h, attach_id_table).
  model::ModelConfig config = a.config;
  const bool adopt_ids = config.has_item_id() && !config.external_item_table;
  config.external_item_table = config.has_item_id();
  model::SeqModel m(config, take != nullptr ? model::ItemFeatures::from_table(
                                                  take->items, model::TableContent::kTake)
                                            : model::ItemFeatures::from_table(a.items));
  m->eval();
  {
    // Copy the weights by name; the artifact must hold exactly the model's tensors.
    torch::NoGradGuard no_grad;
    auto params = m->named_parameters(true);
    std::set<std::string> expected, given(a.weight_names.begin(), a.weight_names.end());
    for (const auto& p : params) expected.insert(p.key());
    if (adopt_ids) expected.insert(kItemIdWeight);
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
      const auto& src = a.weights[i];
      if (adopt_ids && a.weight_names[i] == kItemIdWeight) {
        if (ids == IdTable::kAttach) {
          m->item_encoder()->attach_id_table(src);  // checks [I, D]
        } else {
          DIVREC_CHECK_HINT(
              src.dim() == 2 && src.size(0) == config.num_items && src.size(1) == config.dim,
              "re-export the model with `divrec export`", "serving artifact: '", kItemIdWeight,
              "' has shape ", src.sizes(), ", the model expects [", config.num_items, ", ",
              config.dim, "]");
        }
        continue;
      }
      auto& dst = params[a.weight_names[i]];
      DIVREC_CHECK_HINT(dst.sizes() == src.sizes(), "re-export the model with `divrec export`",
                        "serving artifact: weight '", a.weight_names[i], "' has shape ",
                        src.sizes(), ", the model expects ", dst.sizes());
      dst.copy_(src);
    }
  }
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  return m;
}

}  // namespace

model::SeqModel rebuild_model(const Artifact& artifact, IdTable ids) {
  return rebuild(artifact, ids, nullptr);
}

model::SeqModel rebuild_model(Artifact& artifact, IdTable ids, model::TableContent content) {
  return rebuild(artifact, ids, content == model::TableContent::kTake ? &artifact : nullptr);
}

}  // namespace divrec::serving
