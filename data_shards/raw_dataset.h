// What every converter produces and the writer consumes: interactions keyed by raw (source) ids,
// items' side info (raw category, raw attributes, optional content vectors), provenance, and the
// split options. Raw ids are interned into per-dataset tables so that converters of 100M-line
// logs store ints per interaction, not strings.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace divrec::data {

// Maps strings to 0, 1, 2, ... in first-seen order; lookups by string_view allocate nothing.
// Not thread-safe, find included: the index is built lazily.
class Interner {
 public:
  int32_t intern(std::string_view s);
  // Appends a name the caller guarantees is new (e.g. generated ids "0".."n-1") without hashing
  // it: the index catches up at the next intern/find, so a 10M-item catalog nobody looks up by
  // name costs no hash table. A duplicate is an error then.
  int32_t add_new(std::string_view s);
  int32_t find(std::string_view s) const;  // -1 when absent
  int32_t size() const { return static_cast<int32_t>(names_.size()); }
  const std::string& name(int32_t i) const { return names_[static_cast<size_t>(i)]; }
  std::vector<std::string> names() const { return {names_.begin(), names_.end()}; }

 private:
  void catch_up() const;  // indexes names_[indexed_, size())

  std::deque<std::string> names_;  // deque: elements never move, so the views below stay valid
  mutable std::unordered_map<std::string_view, int32_t> index_;
  mutable size_t indexed_ = 0;  // names_[0, indexed_) are in index_
};

struct SplitOptions {
  std::string type = "leave-one-out";  // or "temporal"
  // temporal: events with time >= test_cut are test targets, valid_cut <= time < test_cut
  // validation targets. Explicit cuts win; otherwise the cuts are the (1 - test_frac) and
  // (1 - test_frac - valid_frac) quantiles of all kept events' times.
  bool explicit_cuts = false;
  int64_t valid_cut = 0;
  int64_t test_cut = 0;
  double valid_frac = 0.1;
  double test_frac = 0.1;
};

// A temporal split's cut: the time at or after which the last `frac` of `times` lie (max + 1
// when that share rounds to no event).
int64_t quantile_cut(std::vector<int64_t> times, double frac);

struct RawDataset {
  std::string source;           // converter name (manifest "source")
  std::string input;            // input path(s) as given
  std::string category_method;  // how item categories were derived (manifest)

  Interner users;  // raw user ids
  Interner items;  // raw item ids (side-info-only items may be interned too)

  // Interactions, one entry each, in input order (the writer sorts each user's events by time,
  // stably).
  std::vector<int32_t> user;
  std::vector<int32_t> item;
  std::vector<int64_t> time;
  std::vector<int8_t> event;

  // Item side info, by raw item index. Items without an entry have no category / attributes.
  Interner categories;                 // raw category names
  Interner attributes;                 // raw attribute names
  std::vector<int32_t> item_category;  // raw category index per raw item, -1 = none
  std::vector<int32_t> attr_item;      // (attr_item[k], attr_id[k]) pairs in any order;
  std::vector<int32_t> attr_id;        //   duplicates are merged by the writer
  int64_t content_dim = 0;
  std::vector<float> content;  // [items.size() * content_dim] when content_dim > 0
  std::string content_model;   // which model made the content vectors
  // Item text (convert/item_text.h), by raw item index ("" = none); tokenized by the writer.
  std::vector<std::string> item_text;
  std::string text_model;             // serialized SentencePiece model; "" = no item text
  std::string text_tokenizer_source;  // where the model came from (for messages)
  int64_t text_max_tokens = 0;        // per item, 0 = all

  void set_category(int32_t item, int32_t category) {
    if (item_category.size() <= static_cast<size_t>(item)) item_category.resize(item + 1, -1);
    item_category[static_cast<size_t>(item)] = category;
  }
  void add_attribute(int32_t item, int32_t attribute) {
    attr_item.push_back(item);
    attr_id.push_back(attribute);
  }
  void add(int32_t u, int32_t i, int64_t t, int8_t e) {
    user.push_back(u);
    item.push_back(i);
    time.push_back(t);
    event.push_back(e);
  }
  int64_t num_interactions() const { return static_cast<int64_t>(user.size()); }
};

}  // namespace divrec::data
