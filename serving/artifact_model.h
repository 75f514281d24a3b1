// The model of a serving artifact: rebuilt from its config and item table, weights copied by their
// checkpoint names (the artifact must hold exactly the model's tensors; the item-id table is
// attached without a copy, or omitted when only encoding from item vectors), eval mode, no
// autograd.
// Shared by the Recommender and by appending items (which encodes the new items with it).
#pragma once

#include "serving/artifact.h"
#include "trainer/model/seq_model.h"

namespace divrec::serving {

// What the rebuilt model keeps of the item-id table ([I, D], 2.5 GB at 10 M items).
enum class IdTable {
  kAttach,  // the artifact's tensor is attached: model.item_vectors() works (appending items)
  kOmit,    // none: the model encodes histories only from given item-vector rows
            // (SeqModel::encode with an item table, as serving does); forward_items and
            // item_vectors() throw "the item-id table is external and none is attached"
};

model::SeqModel rebuild_model(const Artifact& artifact, IdTable ids = IdTable::kAttach);
// The same; model::TableContent::kTake moves the artifact's item content into the model (the
// Recommender: serving never reads it from the table; artifact.items has none afterwards). After
// an error (weights that do not match) the artifact's content may be gone too.
model::SeqModel rebuild_model(Artifact& artifact, IdTable ids, model::TableContent content);

}  // namespace divrec::serving
