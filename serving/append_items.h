// Appending new items to a serving artifact and its ANN index without retraining: each new item
// is described by its features (category and attribute names of the artifact's vocabulary,
// content vector), encoded by the artifact's own item encoder, and added to the item table, the
// item vectors and the index (HNSW/IVF add, no rebuild). Only models without per-item id
// embeddings (--use-item-id false: category/attribute/content features) can encode unseen items.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "serving/artifact.h"

namespace divrec::serving {

struct NewItem {
  std::string id;                       // raw id, not yet in the artifact
  std::string category;                 // a category name of the artifact ("" = none)
  std::vector<std::string> attributes;  // attribute names of the artifact
  std::vector<float> content;           // content_dim floats (when the model uses content)
  // Optional "text": `divrec append-items --encoder` turns it into `content` (the artifact's
  // content model run on it, launcher/cmd_append_items.cpp); for a model with item text
  // (--use-text) append_items() tokenizes it with the artifact's SentencePiece model into the
  // item's bag of subwords, exactly as `shard convert --item-text` did for the catalog.
  std::string text;
};

// JSON lines {"id": "...", "category": "...", "attributes": [...], "content": [...],
// "text": "..."}; errors name the file and line.
std::vector<NewItem> read_new_items(const std::string& path);

struct AppendSummary {
  int64_t appended = 0;
  int64_t items = 0;      // after appending
  std::string ann_index;  // the new index file ("" when the artifact has none)
  uint32_t checksum = 0;
};

// Reads `artifact_path`, appends `items` (dense ids I, I+1, ...; earlier items keep their ids,
// vectors and index entries), and writes `output` (may equal artifact_path) atomically with its
// new index beside it; the previous index of `output` is removed after the artifact is committed.
AppendSummary append_items(const std::string& artifact_path, const std::vector<NewItem>& items,
                           const std::string& output);

}  // namespace divrec::serving
