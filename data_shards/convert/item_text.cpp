// attach_item_text (see item_text.h).
#include "data_shards/convert/item_text.h"

#include <vector>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/text.h"

namespace divrec::data {

void attach_item_text(RawDataset* raw, const ItemTextOptions& o) {
  if (o.path.empty()) return;
  DIVREC_CHECK_HINT(o.max_tokens >= 1, "pass --max-text-tokens 1 or more", "--max-text-tokens ",
                    o.max_tokens);
  LineReader in(o.path, "reading item text");
  std::string_view line;
  std::vector<std::string_view> fields;
  std::vector<int64_t> line_of(static_cast<size_t>(raw->items.size()), 0);
  raw->item_text.assign(static_cast<size_t>(raw->items.size()), "");
  std::vector<std::string> texts;  // every text of the file (the tokenizer's training data)
  int64_t unknown = 0, empty = 0;
  while (in.next(&line)) {
    if (in.line_no() == 1) continue;  // header
    if (trim(line).empty()) continue;
    split(line, '\t', &fields);
    if (fields.size() < 2) in.fail("expected: raw item id <TAB> ... <TAB> text", line);
    const std::string id(trim(fields.front()));
    const std::string text(trim(fields.back()));
    if (id.empty()) in.fail("empty item id", line);
    texts.push_back(text);
    empty += text.empty();
    const int32_t r = raw->items.find(id);
    if (r < 0) {
      ++unknown;
      continue;
    }
    auto& seen = line_of[static_cast<size_t>(r)];
    if (seen > 0) {
      in.fail("item '" + id + "' already has a text (line " + std::to_string(seen) + ")", line);
    }
    seen = in.line_no();
    raw->item_text[static_cast<size_t>(r)] = text;
  }
  DIVREC_CHECK_HINT(!texts.empty(), "FILE needs a header line, then `id <TAB> text` lines", "'",
                    o.path, "' has no item texts");
  if (o.tokenizer.empty()) {
    raw->text_model = train_text_tokenizer(texts, o.train);
    raw->text_tokenizer_source = "trained on " + o.path;
  } else {
    raw->text_model = TextTokenizer::from_file(o.tokenizer).model_bytes();
    raw->text_tokenizer_source = o.tokenizer;
  }
  raw->text_max_tokens = o.max_tokens;
  core::log0(
      "item text: {} texts ({} empty, {} with ids not in the data), tokenizer {} ({} pieces)",
      texts.size(), empty, unknown, raw->text_tokenizer_source,
      TextTokenizer(raw->text_model, raw->text_tokenizer_source).vocab_size());
}

}  // namespace divrec::data
