// `shard convert --item-text FILE`: item texts (e.g. titles) for any converter. FILE is
// tab-separated with a header line: the raw item id in the first column, the text in the last
// (so `id \t text` and Beauty_item_titles.tsv's `item_id \t asin \t title` both work). The texts
// train a SentencePiece vocabulary (or a given model is used); build.cpp tokenizes the catalog.
#pragma once

#include <string>
#include <vector>

#include "data_shards/raw_dataset.h"
#include "data_shards/text_tokens.h"

namespace divrec::data {

struct ItemTextOptions {
  std::string path;       // "" = no item text
  std::string tokenizer;  // SentencePiece .model file; "" = train one on the texts
  TextTokenizerOptions train;
  int64_t max_tokens = 32;  // per item, from the start of the text
};

// One line of an item text file: raw id, text (trimmed; may be empty) and its 1-based line.
struct ItemTextLine {
  std::string id;
  std::string text;
  int64_t line = 0;
};

// Every text of `path` in file order (the format above; also `divrec encode-items --text` and
// `--token-ids`, whose last column holds token ids). what: the reader's purpose, for errors.
// Throws naming the file and line: fewer than 2 fields, an empty id, an id given twice; or no
// text line at all.
std::vector<ItemTextLine> read_item_text_file(const std::string& path, const std::string& what);

// Reads the texts into raw (raw.item_text by raw item index; ids not among raw's items are
// skipped and counted in the log) and sets raw.text_model / raw.text_max_tokens.
void attach_item_text(RawDataset* raw, const ItemTextOptions& options);

}  // namespace divrec::data
