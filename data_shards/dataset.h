// In-memory views of a divrec dataset (format v1, docs/data-format.md): the item table, users'
// interaction sequences in CSR form with their split points, and the manifest. Everything
// downstream (sampler, model, eval, serving) uses these types, never HDF5 directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace divrec::data {

constexpr int kFormatVersion = 1;

// Event types of an interaction (Taobao behaviours; other sources use kView or kRating).
enum class EventType : int8_t { kView = 0, kCart = 1, kFav = 2, kBuy = 3, kRating = 4 };

// Storage precision of content vectors (data_shards/content_dtype.h): values are kept as fp32 in
// ItemTable, rounded to this type, unless read with ContentRead::kStored; files, artifacts and
// the model's copy hold 16 bits for fp16/bf16.
enum class ContentDtype : int8_t { kFloat32 = 0, kFloat16 = 1, kBFloat16 = 2 };

// How read_item_table / read_items_file return fp16/bf16 content vectors.
enum class ContentRead : int8_t {
  kWidened,  // as fp32 values in ItemTable::content (every consumer can use them)
  kStored,   // as their 16-bit patterns in ItemTable::content_bits, content empty: 2 bytes per
             // value from the file to the model (train and eval of foundation-model catalogs)
};

struct ItemTable {
  int64_t num_items = 0;
  int64_t num_categories = 0;
  int64_t num_attributes = 0;
  std::vector<int32_t> category;      // [I] primary category id in [0, C); items without one
                                      // get the dedicated "(none)" category (the last id)
  std::vector<int64_t> attr_offsets;  // [I+1] CSR row pointers into attr_ids
  std::vector<int32_t> attr_ids;      // [nnz] attribute ids in [0, A), sorted per item
  std::vector<int64_t> popularity;    // [I] interactions in the train split only
  int64_t content_dim = 0;            // 0 = no content vectors
  std::vector<float> content;         // [I * content_dim] row-major (empty with content_bits)
  // [I * content_dim] row-major fp16/bf16 bit patterns (content_dtype) when read with
  // ContentRead::kStored; empty otherwise. Exactly one of content / content_bits holds the rows.
  std::vector<uint16_t> content_bits;
  // [I] when content_dim > 0: 1 = the item has a vector, 0 = it has none (its row is zeros and
  // the item encoder uses a learned "missing content" vector instead; `shard add-content`).
  std::vector<uint8_t> has_content;
  std::string content_model;          // name of the model that made the content vectors
  // `divrec encode-items`' text-encoder identity (JSON, trainer/model/text_encoder_identity.h):
  // what append-items --encoder must match; "" for imported vectors and older files.
  std::string content_encoder;
  ContentDtype content_dtype = ContentDtype::kFloat32;
  // Item text as subword ids (`shard convert --item-text`), CSR like the attributes.
  int64_t text_vocab = 0;             // tokenizer pieces; 0 = no item text
  std::vector<int64_t> text_offsets;  // [I+1] when text_vocab > 0
  std::vector<int32_t> text_ids;      // [nnz] piece ids in [0, text_vocab), in text order
  std::string text_tokenizer;         // the SentencePiece model's serialized bytes
  int64_t text_max_tokens = 0;        // pieces kept per item (--max-text-tokens); 0 = all
  std::vector<std::string> raw_ids;         // [I] dense id -> raw id
  std::vector<std::string> category_names;  // [C] dense -> raw category id / name
  std::vector<std::string> attribute_names; // [A] dense -> raw attribute id / name

  bool any_content_missing() const;
  int64_t longest_text() const;  // most pieces of any item's text (0 without item text)
  int64_t num_attrs(int64_t item) const { return attr_offsets[item + 1] - attr_offsets[item]; }
  const int32_t* attrs(int64_t item) const { return attr_ids.data() + attr_offsets[item]; }
};

// Which targets of a user's sequence an evaluation uses.
enum class Split { kTrain, kValid, kTest };

// Users' sequences in CSR form, sorted by dense user id. For user u with events
// [offsets[u], offsets[u+1]) (time order), positions are relative to the user's first event:
//   train events    [0, valid_start[u])
//   valid targets   [valid_start[u], test_start[u])   (history = everything before)
//   test targets    [test_start[u], length)          (history = everything before)
// leave-one-out: valid_start = n - 2, test_start = n - 1.
struct UserSequences {
  std::vector<int64_t> user_ids;     // [U] dense global user ids, ascending
  std::vector<int64_t> offsets{0};   // [U+1]
  std::vector<int32_t> items;        // [N] dense item ids
  std::vector<int64_t> times;        // [N] unix seconds
  std::vector<int8_t> events;        // [N] EventType
  std::vector<int32_t> valid_start;  // [U]
  std::vector<int32_t> test_start;   // [U]

  int64_t num_users() const { return static_cast<int64_t>(user_ids.size()); }
  int64_t num_events() const { return static_cast<int64_t>(items.size()); }
  int64_t length(int64_t u) const { return offsets[u + 1] - offsets[u]; }
  const int32_t* seq(int64_t u) const { return items.data() + offsets[u]; }
  // Number of leading events usable as history/inputs for `split` (train: valid_start).
  int64_t history_end(int64_t u, Split split) const;
  // [begin, end) of the split's target positions for user u (empty for kTrain).
  std::pair<int64_t, int64_t> targets(int64_t u, Split split) const;
  void append_user(int64_t user_id, const std::vector<int32_t>& items_, const std::vector<int64_t>& times_,
                   const std::vector<int8_t>& events_, int32_t valid_start_, int32_t test_start_);
};

struct ShardInfo {
  std::string file;       // relative to the dataset directory
  int64_t num_users = 0;
  int64_t num_events = 0;
  uint32_t crc32 = 0;     // of the file bytes (zlib crc32)
};

struct Manifest {
  int format_version = kFormatVersion;
  std::string source;            // converter name: amazon-s3rec, movielens, taobao, csv, synthetic
  std::string input;             // input path(s) as given
  std::string command;           // the command line that made the dataset
  std::string split;             // "leave-one-out" or "temporal"
  int64_t valid_cut_time = 0;    // temporal split only
  int64_t test_cut_time = 0;     // temporal split only
  std::string category_method;   // how items' primary categories were derived
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t num_interactions = 0;
  int64_t num_categories = 0;
  int64_t num_attributes = 0;
  int64_t content_dim = 0;
  std::vector<ShardInfo> shards;
  std::string items_file = "items.h5";
  uint32_t items_crc32 = 0;
  std::vector<std::string> user_raw_ids;  // [num_users] dense -> raw
  // Versions (docs/data-format.md, "Dataset versions"): 0 as converted; each `shard add-content`
  // adds one, keeping the previous manifest as previous_manifest and its files untouched.
  int64_t dataset_version = 0;
  std::string previous_manifest;  // "" at version 0
  std::string version_command;    // the command that made this version ("" at version 0)
};

}  // namespace divrec::data
