// The converters: each reads one source format and returns a RawDataset for write_dataset.
// How each derives item categories is documented in docs/data-format.md ("Categories").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/raw_dataset.h"

namespace divrec::data {

// S3-Rec style files: DIR/NAME.txt ("user item item ..." per line, time order),
// DIR/NAME_item2attributes.json, optional DIR/NAME.abs_time.inter ("user item timestamp").
struct AmazonS3RecOptions {
  std::string input;  // the directory (or NAME.txt inside it)
  // Items in NAME.txt missing from the attribute map are an error unless this is set; they then
  // get no attributes and the "(none)" category.
  bool allow_missing_attributes = false;
};
RawDataset convert_amazon_s3rec(const AmazonS3RecOptions& options);

// MovieLens 100K (u.data, u.item[, u.genre]) or 1M (ratings.dat, movies.dat) directory.
struct MovielensOptions {
  std::string input;
  double min_rating = 0;  // keep ratings >= this
};
RawDataset convert_movielens(const MovielensOptions& options);

// Taobao UserBehavior.csv: user,item,category,behavior,timestamp.
struct TaobaoOptions {
  std::string input;                   // the CSV file or a directory holding UserBehavior.csv
  std::vector<std::string> behaviors;  // subset of pv,cart,fav,buy; empty = all
};
RawDataset convert_taobao(const TaobaoOptions& options);

// Any delimited file. Columns are 0-based indices or header names (names need header = true).
struct CsvOptions {
  std::string input;
  char delimiter = ',';
  bool header = false;
  std::string user_col, item_col;  // required
  std::string time_col;            // optional: file order when empty
  std::string category_col;        // optional
  std::string attributes_col;      // optional: attr_delimiter-separated list
  char attr_delimiter = '|';
};
RawDataset convert_csv(const CsvOptions& options);

// Generated data with planted structure (Zipf popularity, per-user favourite categories,
// item-to-item transitions); deterministic for a given seed. Users' lengths and times depend on
// (seed, users, mean_length) only, never on the catalog options.
struct SyntheticOptions {
  int64_t users = 1000;
  int64_t items = 500;
  int64_t categories = 10;
  int64_t attributes = 40;  // 0 = no attributes
  double mean_length = 20;
  int64_t content_dim = 16;  // 0 = no content vectors
  uint64_t seed = 1;
  bool cover_items = false;  // every item gets >= 1 interaction (needs events >= items)
};
RawDataset convert_synthetic(const SyntheticOptions& options);

// Sets every item's category to its least frequent attribute (frequency = number of items
// listing it; ties -> smallest attribute, numerically when names are integers). Items without
// attributes keep category -1 ("(none)" in the dataset).
void assign_least_frequent_attribute_category(RawDataset* raw);

}  // namespace divrec::data
