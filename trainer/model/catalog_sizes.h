// The catalog sizes a ModelConfig takes from the dataset it is built for (items, categories,
// attributes, content width, text vocabulary, whether content has gaps): one place for the trainer, the eval loader, tests and benchmarks.
#pragma once

#include "data_shards/dataset.h"
#include "trainer/model/config.h"

namespace divrec::model {

// `mc` with num_items, num_categories, num_attributes, content_dim, content_missing (some item
// lacks a content vector: the encoder learns a fallback) and num_text_tokens (the stored text's
// vocabulary) set from `items`; every other field unchanged.
inline ModelConfig with_catalog_sizes(ModelConfig mc, const data::ItemTable& items) {
  mc.num_items = items.num_items;
  mc.num_categories = items.num_categories;
  mc.num_attributes = items.num_attributes;
  mc.content_dim = items.content_dim;
  mc.content_missing = items.any_content_missing();
  mc.num_text_tokens = items.text_vocab;
  return mc;
}

}  // namespace divrec::model
