// A small valid dataset directory (synthetic, 2 shards) the file-reader targets mutate one file
// of, and the seed inputs made from it: one byte naming the file, then the file's bytes.
// DIVREC_FUZZ_SEEDS_OUT=DIR makes a target write those seeds into DIR and exit.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "data_shards/convert/converters.h"
#include "data_shards/writer.h"
#include "fuzz/fuzz_util.h"

namespace divrec::fuzz {

inline const std::vector<std::string>& dataset_files() {
  static const std::vector<std::string> f = {"manifest.h5", "items.h5", "shard-00000.h5",
                                             "shard-00001.h5"};
  return f;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes the template into scratch_dir()/<name> and returns the files' original bytes.
inline std::vector<std::string> make_dataset_template(const std::string& name) {
  data::SyntheticOptions so;
  so.users = 40;
  so.items = 25;
  so.categories = 3;
  so.attributes = 6;
  so.content_dim = 2;
  so.mean_length = 6;
  so.seed = 3;
  data::WriteOptions o;
  o.output_dir = scratch_dir() + "/" + name;
  o.num_shards = 2;
  o.command = "fuzz template";
  data::write_dataset(data::convert_synthetic(so), o);
  std::vector<std::string> bytes;
  for (const auto& f : dataset_files()) bytes.push_back(read_bytes(o.output_dir + "/" + f));
  if (const char* out = std::getenv("DIVREC_FUZZ_SEEDS_OUT")) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::ofstream(std::string(out) + "/" + dataset_files()[i], std::ios::binary)
          << static_cast<char>(i) << bytes[i];
    }
    std::exit(0);
  }
  return bytes;
}

// The template of a target, made once on first use (its name is the scratch subdirectory).
inline const std::vector<std::string>& dataset_template(const std::string& name) {
  static const std::vector<std::string> originals = make_dataset_template(name);
  return originals;
}

// Replaces the file the input's first byte names with the rest of the input, runs fn, and puts
// the original back.
template <typename Fn>
void with_mutated_file(const std::string& dir, const std::vector<std::string>& originals,
                       const uint8_t* data, size_t size, Fn&& fn) {
  if (size == 0) return;
  const size_t which = data[0] % dataset_files().size();
  const std::string name = dir + "/" + dataset_files()[which];
  write_path(name, {reinterpret_cast<const char*>(data) + 1, size - 1});
  expect_clean(fn);
  write_path(name, originals[which]);
}

}  // namespace divrec::fuzz
