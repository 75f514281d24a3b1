// movielens converter: ML-100K (u.data tab-separated, u.item pipe-separated with 19 genre flags,
// latin-1) and ML-1M (ratings.dat / movies.dat, "::"-separated). Genres are the attributes; an
// item's first genre (flag order for 100K, listed order for 1M) is its primary category.
#include <filesystem>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/text.h"
#include "data_shards/dataset.h"
#include "data_shards/ids.h"

namespace divrec::data {

namespace {

// ML-100K's genre order (u.genre), used when u.genre is absent.
const char* const kGenres100k[19] = {
    "unknown",     "Action", "Adventure", "Animation", "Children's", "Comedy",  "Crime",
    "Documentary", "Drama",  "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
    "Romance",     "Sci-Fi", "Thriller",  "War",       "Western"};

std::vector<std::string> read_genre_names(const std::string& dir) {
  std::vector<std::string> names(std::begin(kGenres100k), std::end(kGenres100k));
  std::string path = path_join(dir, "u.genre");
  if (!std::filesystem::exists(path)) return names;
  LineReader lines(path);
  std::vector<std::string_view> f;
  std::string_view line;
  while (lines.next(&line)) {
    if (trim(line).empty()) continue;
    split(line, '|', &f);
    int64_t idx = -1;
    if (f.size() != 2 || !parse_int64(f[1], &idx) || idx < 0 || idx >= 19) {
      lines.fail("expected 'genre|index' with index in [0, 19)", line);
    }
    names[static_cast<size_t>(idx)] = std::string(f[0]);
  }
  return names;
}

// One "user item rating time" record already split into fields.
void add_rating(LineReader& lines, std::string_view line, const std::vector<std::string_view>& f,
                double min_rating, RawDataset* raw) {
  double rating = 0;
  int64_t t = 0;
  if (!parse_double(f[2], &rating)) lines.fail("rating is not a number", line);
  if (!parse_int64(trim(f[3]), &t)) lines.fail("timestamp is not an integer", line);
  if (rating < min_rating) return;
  raw->add(raw->users.intern(trim(f[0])), raw->items.intern(trim(f[1])), t,
           static_cast<int8_t>(EventType::kRating));
}

void convert_100k(const std::string& dir, double min_rating, RawDataset* raw) {
  auto genres = read_genre_names(dir);
  std::vector<int32_t> genre_ids;
  for (const auto& g : genres) genre_ids.push_back(raw->attributes.intern(g));
  std::vector<std::string_view> f;
  std::string_view line;
  {
    LineReader lines(path_join(dir, "u.item"));
    while (lines.next(&line)) {
      if (trim(line).empty()) continue;
      split(line, '|', &f);
      if (f.size() < 24)
        lines.fail("expected 'id|title|date|video date|url|<19 genre flags>'", line);
      int32_t item = raw->items.intern(trim(f[0]));
      bool first = true;
      for (size_t g = 0; g < 19; ++g) {
        std::string_view flag = f[f.size() - 19 + g];
        if (flag != "0" && flag != "1") lines.fail("genre flags must be 0 or 1", line);
        if (flag == "0") continue;
        raw->add_attribute(item, genre_ids[g]);
        if (first) raw->set_category(item, raw->categories.intern(genres[g]));
        first = false;
      }
    }
  }
  LineReader lines(path_join(dir, "u.data"), "reading u.data");
  while (lines.next(&line)) {
    if (trim(line).empty()) continue;
    split(line, '\t', &f);
    if (f.size() != 4) lines.fail("expected 4 tab-separated fields 'user item rating time'", line);
    add_rating(lines, line, f, min_rating, raw);
  }
}

void convert_1m(const std::string& dir, double min_rating, RawDataset* raw) {
  std::vector<std::string_view> f, g;
  std::string_view line;
  {
    LineReader lines(path_join(dir, "movies.dat"));
    while (lines.next(&line)) {
      if (trim(line).empty()) continue;
      split(line, "::", &f);
      if (f.size() < 3) lines.fail("expected 'id::title::Genre|Genre'", line);
      int32_t item = raw->items.intern(trim(f[0]));
      split(trim(f.back()), '|', &g);
      bool first = true;
      for (auto name : g) {
        name = trim(name);
        if (name.empty() || name == "(no genres listed)") continue;
        raw->add_attribute(item, raw->attributes.intern(name));
        if (first) raw->set_category(item, raw->categories.intern(name));
        first = false;
      }
    }
  }
  LineReader lines(path_join(dir, "ratings.dat"), "reading ratings.dat");
  while (lines.next(&line)) {
    if (trim(line).empty()) continue;
    split(line, "::", &f);
    if (f.size() != 4) lines.fail("expected 'user::item::rating::time'", line);
    add_rating(lines, line, f, min_rating, raw);
  }
}

}  // namespace

RawDataset convert_movielens(const MovielensOptions& options) {
  const std::string& dir = options.input;
  DIVREC_CHECK_HINT(is_directory(dir), "pass the MovieLens directory (ml-100k or ml-1m)",
                    "movielens: no such directory '", dir, "'");
  RawDataset raw;
  raw.source = "movielens";
  raw.input = dir;
  raw.category_method = "first-genre";
  if (std::filesystem::exists(path_join(dir, "u.data"))) {
    convert_100k(dir, options.min_rating, &raw);
  } else if (std::filesystem::exists(path_join(dir, "ratings.dat"))) {
    convert_1m(dir, options.min_rating, &raw);
  } else {
    DIVREC_FAIL("movielens: '", dir, "' has neither u.data (ML-100K) nor ratings.dat (ML-1M)");
  }
  DIVREC_CHECK_HINT(raw.num_interactions() > 0, "check --input and --min-rating",
                    "movielens: no ratings kept from '", dir, "'");
  return raw;
}

}  // namespace divrec::data
