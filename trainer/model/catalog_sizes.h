// The catalog sizes a ModelConfig takes from the dataset it is built for (items, categories,
// attributes, content width): one place for the trainer, the eval loader, tests and benchmarks.
#pragma once

#include "data_shards/dataset.h"
#include "trainer/model/config.h"

namespace divrec::model {

// `mc` with num_items, num_categories, num_attributes and content_dim set from `items`; every
// other field unchanged.
inline ModelConfig with_catalog_sizes(ModelConfig mc, const data::ItemTable& items) {
  mc.num_items = items.num_items;
  mc.num_categories = items.num_categories;
  mc.num_attributes = items.num_attributes;
  mc.content_dim = items.content_dim;
  return mc;
}

}  // namespace divrec::model
