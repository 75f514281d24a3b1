// MovieLens converter, both layouts: 100K (u.data, u.item, u.genre) when the input starts with
// "100k\n", else 1M (ratings.dat, movies.dat); the files are parts of one input (fuzz_util.h).
#include "data_shards/convert/converters.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  const bool ml100k = s.substr(0, 5) == "100k\n";
  if (ml100k) s.remove_prefix(5);
  auto parts = fuzz::split_parts(reinterpret_cast<const uint8_t*>(s.data()), s.size(), 3);
  const std::string dir = fuzz::scratch_dir() + (ml100k ? "/ml100k" : "/ml1m");
  std::filesystem::create_directories(dir);
  if (ml100k) {
    fuzz::write_file("ml100k/u.data", parts[0]);
    fuzz::write_file("ml100k/u.item", parts.size() > 1 ? parts[1] : "");
    std::filesystem::remove(dir + "/u.genre");
    if (parts.size() > 2) fuzz::write_file("ml100k/u.genre", parts[2]);
  } else {
    fuzz::write_file("ml1m/ratings.dat", parts[0]);
    fuzz::write_file("ml1m/movies.dat", parts.size() > 1 ? parts[1] : "");
  }
  for (double min_rating : {0.0, 4.0}) {
    fuzz::expect_clean([&] {
      data::MovielensOptions o;
      o.input = dir;
      o.min_rating = min_rating;
      data::convert_movielens(o);
    });
  }
  return 0;
}
