// The model of a serving artifact: rebuilt from its config and item table, weights copied by their
// checkpoint names (the artifact must hold exactly the model's tensors; the item-id table is
// attached without a copy), eval mode, no autograd.
// Shared by the Recommender and by appending items (which encodes the new items with it).
#pragma once

#include "serving/artifact.h"
#include "trainer/model/seq_model.h"

namespace divrec::serving {

model::SeqModel rebuild_model(const Artifact& artifact);

}  // namespace divrec::serving
