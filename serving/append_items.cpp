// Appending items (see append_items.h): features -> item table rows, the artifact's item encoder
// -> their vectors (the old rows are kept bit for bit, so the index stays bound to them), then
// AnnIndex::add and the same write order as `divrec export` (index first, then the artifact).
#include "serving/append_items.h"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/content_dtype.h"
#include "data_shards/text_tokens.h"
#include "eval/retrieval/ann_store.h"
#include "serving/artifact_model.h"

namespace divrec::serving {

namespace {

int32_t lookup(const std::vector<std::string>& names, const std::string& name,
               const std::string& what, const std::string& item) {
  auto it = std::find(names.begin(), names.end(), name);
  DIVREC_CHECK_HINT(it != names.end(), "new categories and attributes need retraining",
                    "append items: item '", item, "' has ", what, " '", name,
                    "' that the artifact's vocabulary does not have");
  return static_cast<int32_t>(it - names.begin());
}

// Appends the items' feature rows to t (checked against its vocabulary and content_dim). tok:
// the artifact's item text tokenizer (null = new items get an empty text bag).
void append_rows(data::ItemTable& t, const std::vector<NewItem>& items, bool content_missing,
                 const data::TextTokenizer* tok) {
  std::unordered_set<std::string> known(t.raw_ids.begin(), t.raw_ids.end());
  for (const auto& it : items) {
    DIVREC_CHECK_HINT(!it.id.empty() && known.insert(it.id).second, "give every new item a new id",
                      "append items: item id '", it.id, "' is empty or already in the artifact");
    // Items without a category get the dedicated "(none)" category: the last id.
    t.category.push_back(it.category.empty()
                             ? static_cast<int32_t>(t.num_categories - 1)
                             : lookup(t.category_names, it.category, "category", it.id));
    std::vector<int32_t> attrs;
    for (const auto& a : it.attributes)
      attrs.push_back(lookup(t.attribute_names, a, "attribute", it.id));
    std::sort(attrs.begin(), attrs.end());
    attrs.erase(std::unique(attrs.begin(), attrs.end()), attrs.end());
    t.attr_ids.insert(t.attr_ids.end(), attrs.begin(), attrs.end());
    t.attr_offsets.push_back(static_cast<int64_t>(t.attr_ids.size()));
    // No "content" (with a content model): the fallback of `shard add-content`, a zero row
    // flagged has_content = 0, which only a model trained with such items can encode.
    const bool missing = t.content_dim > 0 && it.content.empty();
    DIVREC_CHECK_HINT(!missing || content_missing,
                      "give the item a \"content\" vector from the artifact's content model ('" +
                          t.content_model + "')",
                      "append items: item '", it.id,
                      "' has no content, and the artifact's model "
                      "was trained with a vector for every item");
    DIVREC_CHECK_HINT(missing || static_cast<int64_t>(it.content.size()) == t.content_dim,
                      "encode the item text with the artifact's content model",
                      "append items: item '", it.id, "' has ", it.content.size(),
                      " content values, the artifact's items have ", t.content_dim);
    if (t.content_dim > 0) {
      if (missing && t.has_content.empty()) t.has_content.assign(t.category.size() - 1, 1);
      if (!t.has_content.empty()) t.has_content.push_back(missing ? 0 : 1);
    }
    const std::string what = "append items: item '" + it.id + "' content";
    if (!t.content_bits.empty()) {  // fp16/bf16 content held as its patterns (read_artifact)
      if (missing) {
        t.content_bits.resize(t.content_bits.size() + static_cast<size_t>(t.content_dim), 0);
      } else {  // the pattern 0 is +0.0 in both formats
        data::append_content_bits(t.content_dtype, it.content.data(), it.content.size(),
                                  &t.content_bits, what);
      }
    } else if (missing) {
      t.content.resize(t.content.size() + static_cast<size_t>(t.content_dim), 0.0f);
    } else {  // rounded to the artifact's content precision, as `shard add-content` stored it
      t.content.insert(t.content.end(), it.content.begin(), it.content.end());
      data::round_to_content_dtype(t.content_dtype,
                                   t.content.data() + t.content.size() - it.content.size(),
                                   it.content.size(), what);
    }
    t.popularity.push_back(0);                                              // no interactions yet
    if (t.text_vocab > 0) {  // the text's first text_max_tokens pieces, as `shard convert` did
      if (tok != nullptr && !it.text.empty()) {
        const auto ids = tok->encode(it.text, t.text_max_tokens);
        t.text_ids.insert(t.text_ids.end(), ids.begin(), ids.end());
      }
      t.text_offsets.push_back(static_cast<int64_t>(t.text_ids.size()));
    }
    t.raw_ids.push_back(it.id);
  }
  t.num_items += static_cast<int64_t>(items.size());
}

}  // namespace

std::vector<NewItem> read_new_items(const std::string& path) {
  std::ifstream in(path);
  DIVREC_CHECK_HINT(in.good(), "pass a JSON-lines file of new items", "append items: cannot open '",
                    path, "'");
  std::vector<NewItem> out;
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      auto j = nlohmann::json::parse(line);
      NewItem it;
      it.id = j.at("id").get<std::string>();
      if (j.contains("category") && !j["category"].is_null()) it.category = j["category"];
      if (j.contains("attributes")) it.attributes = j["attributes"].get<std::vector<std::string>>();
      if (j.contains("content")) it.content = j["content"].get<std::vector<float>>();
      if (j.contains("text") && !j["text"].is_null()) it.text = j["text"].get<std::string>();
      out.push_back(std::move(it));
    } catch (const nlohmann::json::exception& e) {
      DIVREC_FAIL("append items: '", path, "' line ", line_no, ": ", e.what(),
                  " (expected {\"id\": ..., \"category\": ..., \"attributes\": [...], "
                  "\"content\": [...], \"text\": ...})");
    }
  }
  DIVREC_CHECK_HINT(!out.empty(), "one JSON object per line", "append items: '", path,
                    "' has no items");
  return out;
}

AppendSummary append_items(const std::string& artifact_path, const std::vector<NewItem>& items,
                           const std::string& output) {
  Artifact a = read_artifact(artifact_path);
  DIVREC_CHECK_HINT(!a.config.use_item_id || a.config.zero_cold_ids,
                    "retrain with --use-item-id false (feature-only items) or with "
                    "--zero-cold-ids true (cold items use side features only)",
                    "append items: the model of '", artifact_path,
                    "' has a learned embedding per item id, so it cannot encode unseen items");
  const int64_t I = a.items.num_items, D = a.item_vectors.size(1);
  const auto n = static_cast<int64_t>(items.size());
  std::optional<data::TextTokenizer> tok;
  const bool any_text =
      std::any_of(items.begin(), items.end(), [](const NewItem& it) { return !it.text.empty(); });
  if (a.items.text_vocab > 0 && any_text) {
    if (a.items.text_tokenizer.empty()) {
      core::log0(
          "append items: '{}' carries no item text tokenizer (exported before divrec stored "
          "it), so the new items' text bags are empty; re-export it to use their text",
          artifact_path);
    } else {
      tok.emplace(a.items.text_tokenizer, artifact_path + " /items/text_tokenizer");
    }
  }
  append_rows(a.items, items, a.config.content_missing, tok ? &*tok : nullptr);
  a.config.num_items = a.items.num_items;
  if (a.config.use_item_id) {
    // zero_cold_ids: new items have no interactions, so no id term; their id rows are zero, as
    // a cold item's are in training (model/item_encoder.h).
    for (size_t w = 0; w < a.weight_names.size(); ++w) {
      if (a.weight_names[w] != "item_encoder.item_id.weight") continue;
      a.weights[w] = torch::cat({a.weights[w], torch::zeros({n, a.weights[w].size(1)})}, 0);
    }
  }

  // The new items' vectors from the artifact's item encoder; the old rows stay as they were.
  torch::Tensor fresh;
  {
    torch::NoGradGuard no_grad;
    model::SeqModel m = rebuild_model(a);
    fresh = m->item_vectors().slice(0, I, I + n).to(torch::kFloat32).contiguous().clone();
  }
  const torch::Tensor old = a.item_vectors;
  a.item_vectors = torch::cat({old, fresh}, 0).contiguous();

  AppendSummary s;
  if (a.ann_index.present()) {
    auto index = eval::load_ann_for(artifact_path, a.ann_index, old.data_ptr<float>(), I, D);
    index.add(fresh.data_ptr<float>(), n, D);
    a.ann_index = eval::save_ann_beside(index, output);
    s.ann_index = a.ann_index.file;
  }
  write_artifact(output, a);
  eval::remove_stale_ann(output, a.ann_index.file);
  s.appended = n;
  s.items = a.items.num_items;
  s.checksum = a.checksum;
  return s;
}

}  // namespace divrec::serving
