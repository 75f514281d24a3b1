// Reading item content vectors made outside divrec (sentence-transformers, embedding APIs, CLIP)
// for `divrec shard add-content`: .npy + an id file, HDF5 (an id and a vector dataset), or
// CSV/TSV keyed by raw item id. Every row is checked (shape, finite values, well-formed fields);
// errors name the file, the row or line, and what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace divrec::data {

struct ContentSource {
  std::string vectors;  // the vector file
  // "npy" | "hdf5" | "csv" | "tsv"; "" = from the extension (.npy, .h5/.hdf5, .csv, .tsv/.txt).
  std::string format;
  std::string ids;                     // npy: the id file (one raw item id per line, row order)
  std::string h5_ids = "ids";          // hdf5: 1-D string or integer dataset of raw item ids
  std::string h5_vectors = "vectors";  // hdf5: 2-D [N, D] float dataset
  char delimiter = 0;                  // csv/tsv: 0 = ',' for csv, tab for tsv
  bool header = false;                 // csv/tsv: skip the first line
};

// Vectors in file order: row k is ids[k] with values [k*dim, (k+1)*dim).
struct ContentRows {
  std::vector<std::string> ids;
  int64_t dim = 0;
  std::vector<float> values;
  std::vector<std::string> where;  // [N] "FILE:LINE" / "FILE row K" for messages
};

std::string content_format_of(const ContentSource& source);  // resolved format (checked)
ContentRows read_content_rows(const ContentSource& source);

// The parts of an .npy file divrec uses (exposed for tests): little-endian f4/f8 (f2 too),
// C order, 2-D. Throws naming the file for anything else.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
NpyArray read_npy(const std::string& path);

}  // namespace divrec::data
