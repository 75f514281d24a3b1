// attach_item_text (see item_text.h).
#include "data_shards/convert/item_text.h"

#include <unordered_map>
#include <vector>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/text.h"

namespace divrec::data {

std::vector<ItemTextLine> read_item_text_file(const std::string& path, const std::string& what) {
  LineReader in(path, what);
  std::string_view line;
  std::vector<std::string_view> fields;
  std::unordered_map<std::string, int64_t> line_of;
  std::vector<ItemTextLine> out;
  while (in.next(&line)) {
    if (in.line_no() == 1) continue;  // header
    if (trim(line).empty()) continue;
    split(line, '\t', &fields);
    if (fields.size() < 2) in.fail("expected: raw item id <TAB> ... <TAB> text", line);
    ItemTextLine t{std::string(trim(fields.front())), std::string(trim(fields.back())),
                   in.line_no()};
    if (t.id.empty()) in.fail("empty item id", line);
    const auto [it, fresh] = line_of.emplace(t.id, t.line);
    if (!fresh) {
      in.fail("item '" + t.id + "' already has a text (line " + std::to_string(it->second) + ")",
              line);
    }
    out.push_back(std::move(t));
  }
  DIVREC_CHECK_HINT(!out.empty(), "FILE needs a header line, then `id <TAB> text` lines", "'", path,
                    "' has no item texts");
  return out;
}

void attach_item_text(RawDataset* raw, const ItemTextOptions& o) {
  if (o.path.empty()) return;
  DIVREC_CHECK_HINT(o.max_tokens >= 1, "pass --max-text-tokens 1 or more", "--max-text-tokens ",
                    o.max_tokens);
  raw->item_text.assign(static_cast<size_t>(raw->items.size()), "");
  std::vector<std::string> texts;  // every text of the file (the tokenizer's training data)
  int64_t unknown = 0, empty = 0;
  for (auto& t : read_item_text_file(o.path, "reading item text")) {
    empty += t.text.empty();
    const int32_t r = raw->items.find(t.id);
    if (r < 0) {
      ++unknown;
    } else {
      raw->item_text[static_cast<size_t>(r)] = t.text;
    }
    texts.push_back(std::move(t.text));
  }
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
