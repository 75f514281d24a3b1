// synthetic converter: generated users and items with planted structure, straight into arrays.
// Items have Zipf popularity, a category, attributes drawn mostly from their category's block,
// and content vectors = category centroid + noise. Users have 1-3 favourite categories; each
// next event follows the previous item's successors (Markov), stays in a favourite category, or
// explores globally. Separate PRNG streams (mix_seeds(seed, stream)) for the catalog, its side
// info, the users' lengths, their timestamps and their choices keep users' lengths and times
// independent of the catalog options, so catalogs of any size share the same users. Our own PRNG
// and Box-Muller keep it identical on every platform. --cover-items is in synthetic_cover.cpp.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/synthetic_cover.h"
#include "data_shards/dataset.h"
#include "data_shards/sampler.h"

namespace divrec::data {

namespace {

constexpr double kZipfExponent = 1.1;
constexpr int kSuccessors = 3;
constexpr double kMarkovProb = 0.45;   // next = a successor of the previous item
constexpr double kExploreProb = 0.10;  // next = global popularity draw
constexpr double kStayProb = 0.8;      // otherwise: same favourite category as before
constexpr double kContentNoise = 0.5;

// Stream ids for mix_seeds(seed, id); docs/data-format.md lists what each one draws.
enum Stream : uint64_t {
  kCatalog = 1,   // categories, popularity permutation, successors
  kSideInfo = 2,  // centroids, attributes, content vectors
  kLengths = 3,
  kTimes = 4,
  kChoices = 5,  // favourites and each event's item
  kCover = 6,
};

class Rng {
 public:
  Rng(uint64_t seed, Stream stream) : state_(mix_seeds(seed, stream)) {}
  uint64_t next() { return splitmix64_next(&state_); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double normal() {  // Box-Muller
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// Draws from a cumulative weight table [b, e) (binary search).
int64_t draw(const std::vector<double>& cum, int64_t b, int64_t e, Rng& rng) {
  double lo = b == 0 ? 0.0 : cum[static_cast<size_t>(b - 1)];
  double x = lo + rng.uniform() * (cum[static_cast<size_t>(e - 1)] - lo);
  auto it = std::upper_bound(cum.begin() + b, cum.begin() + e, x);
  return std::min<int64_t>(it - cum.begin(), e - 1);
}

// What the users' loop draws from: popularity tables and each item's successors.
struct Catalog {
  std::vector<int32_t> cat;        // category per item
  std::vector<int32_t> by_cat;     // items grouped by category ...
  std::vector<int64_t> cat_begin;  // ... category c is by_cat[cat_begin[c], cat_begin[c+1])
  std::vector<double> cum_global;  // cumulative Zipf weights in item order
  std::vector<double> cum_cat;     // the same in by_cat order
  std::vector<int32_t> succ;       // kSuccessors per item, all in the item's category

  int32_t draw_in_cat(int64_t c, Rng& rng) const {
    auto b = cat_begin[static_cast<size_t>(c)], e = cat_begin[static_cast<size_t>(c) + 1];
    return by_cat[static_cast<size_t>(draw(cum_cat, b, e, rng))];
  }
};

// The catalog from its own stream; side info (ids, categories, attributes, content) into raw,
// from another one, so --attributes and --content-dim change no interaction.
Catalog make_catalog(const SyntheticOptions& o, RawDataset* raw) {
  Rng rng(o.seed, kCatalog), side(o.seed, kSideInfo);
  const auto I = o.items, C = o.categories, A = o.attributes, D = o.content_dim;
  const auto nI = static_cast<size_t>(I);
  Catalog g;
  g.cat.resize(nI);
  for (int64_t i = 0; i < I; ++i)
    g.cat[static_cast<size_t>(i)] = static_cast<int32_t>(i < C ? i : rng.below(C));
  // Popularity rank: a random permutation, so popularity is independent of id and category.
  std::vector<int64_t> zipf_rank(nI);
  std::iota(zipf_rank.begin(), zipf_rank.end(), 0);
  for (int64_t i = I - 1; i > 0; --i)
    std::swap(zipf_rank[static_cast<size_t>(i)], zipf_rank[static_cast<size_t>(rng.below(i + 1))]);
  g.cat_begin.assign(static_cast<size_t>(C) + 1, 0);
  for (int32_t c : g.cat) ++g.cat_begin[static_cast<size_t>(c) + 1];
  std::partial_sum(g.cat_begin.begin(), g.cat_begin.end(), g.cat_begin.begin());
  g.by_cat.resize(nI);  // counting sort: ascending ids within a category
  {
    std::vector<int64_t> fill(g.cat_begin.begin(), g.cat_begin.end() - 1);
    for (int64_t i = 0; i < I; ++i)
      g.by_cat[static_cast<size_t>(fill[static_cast<size_t>(g.cat[static_cast<size_t>(i)])]++)] =
          static_cast<int32_t>(i);
  }
  auto weight = [&](int64_t i) {
    return std::pow(static_cast<double>(zipf_rank[static_cast<size_t>(i)] + 1), -kZipfExponent);
  };
  g.cum_global.resize(nI);
  g.cum_cat.resize(nI);
  for (int64_t k = 0; k < I; ++k) {
    auto sk = static_cast<size_t>(k);
    g.cum_global[sk] = weight(k) + (k > 0 ? g.cum_global[sk - 1] : 0.0);
    // A category's items are one contiguous range of the by_cat order.
    g.cum_cat[sk] = weight(g.by_cat[sk]) + (k > 0 ? g.cum_cat[sk - 1] : 0.0);
  }
  zipf_rank = {};

  // Item side info: ids "0".."I-1" interned up front so content rows line up with raw indices.
  for (int64_t c = 0; c < C; ++c) raw->categories.intern(std::to_string(c));
  for (int64_t a = 0; a < A; ++a) raw->attributes.intern(std::to_string(a));
  std::vector<double> centroid(static_cast<size_t>(C * D));
  for (auto& x : centroid) x = side.normal();
  raw->content_dim = D;
  raw->content_model = D > 0 ? "synthetic-gaussian" : "";
  raw->content.resize(static_cast<size_t>(I * D));
  raw->item_category.assign(g.cat.begin(), g.cat.end());
  if (A > 0) {
    raw->attr_item.reserve(nI * 2);
    raw->attr_id.reserve(nI * 2);
  }
  const int64_t block = std::max<int64_t>(1, A / C);
  for (int64_t i = 0; i < I; ++i) {
    raw->items.add_new(std::to_string(i));
    const int32_t c = g.cat[static_cast<size_t>(i)];
    if (A > 0) {
      int64_t n_attr = 1 + side.below(3);
      int64_t home = c + C * side.below(block);  // attributes a with a % C == c belong to c
      raw->add_attribute(static_cast<int32_t>(i),
                         static_cast<int32_t>(home < A ? home : side.below(A)));
      for (int64_t k = 1; k < n_attr; ++k)
        raw->add_attribute(static_cast<int32_t>(i), static_cast<int32_t>(side.below(A)));
    }
    for (int64_t d = 0; d < D; ++d) {
      raw->content[static_cast<size_t>(i * D + d)] = static_cast<float>(
          centroid[static_cast<size_t>(c * D + d)] + kContentNoise * side.normal());
    }
  }
  // Successors category by category, so each category's slice of cum_cat stays in cache.
  g.succ.resize(nI * kSuccessors);
  for (int32_t i : g.by_cat) {
    for (int k = 0; k < kSuccessors; ++k) {
      g.succ[static_cast<size_t>(i) * kSuccessors + static_cast<size_t>(k)] =
          g.draw_in_cat(g.cat[static_cast<size_t>(i)], rng);
    }
  }
  return g;
}

// Users' lengths, 3 + Exp(mean - 3) capped at 20 * mean, from their own stream: a function of
// (seed, users, mean_length) only.
std::vector<int32_t> draw_lengths(const SyntheticOptions& o) {
  Rng rng(o.seed, kLengths);
  const double extra = o.mean_length - 3;
  const auto cap = static_cast<int64_t>(20 * o.mean_length);
  std::vector<int32_t> len(static_cast<size_t>(o.users));
  for (auto& l : len) {
    auto x = 3 + static_cast<int64_t>(-std::log(1.0 - rng.uniform()) * extra);
    l = static_cast<int32_t>(std::min(x, cap));
  }
  return len;
}

void check_options(const SyntheticOptions& o) {
  DIVREC_CHECK_HINT(o.users > 0 && o.items > 0 && o.categories > 0 && o.categories <= o.items,
                    "pass --users, --items > 0 and 0 < --categories <= --items",
                    "synthetic: users ", o.users, ", items ", o.items, ", categories ",
                    o.categories);
  DIVREC_CHECK_HINT(o.users < INT32_MAX && o.items < INT32_MAX / kSuccessors,
                    "pass --users and --items below 700 million", "synthetic: users ", o.users,
                    ", items ", o.items);
  DIVREC_CHECK_HINT(
      o.attributes >= 0 && o.content_dim >= 0 && o.mean_length >= 3 && o.mean_length <= 1e6,
      "pass --attributes >= 0, --content-dim >= 0, 3 <= --mean-length <= 1e6",
      "synthetic: attributes ", o.attributes, ", content_dim ", o.content_dim, ", mean_length ",
      o.mean_length);
}

}  // namespace

RawDataset convert_synthetic(const SyntheticOptions& o) {
  check_options(o);
  const auto lengths = draw_lengths(o);
  const int64_t events = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  if (o.cover_items) check_coverable(events, o);
  RawDataset raw;
  raw.source = "synthetic";
  raw.input = "synthetic(users=" + std::to_string(o.users) + ",items=" + std::to_string(o.items) +
              ",categories=" + std::to_string(o.categories) + ",seed=" + std::to_string(o.seed) +
              (o.cover_items ? ",cover-items" : "") + ")";
  raw.category_method = "synthetic-planted";
  const Catalog g = make_catalog(o, &raw);

  Rng times(o.seed, kTimes), rng(o.seed, kChoices);
  const auto I = o.items, C = o.categories;
  raw.user.reserve(static_cast<size_t>(events));
  raw.item.reserve(static_cast<size_t>(events));
  raw.time.reserve(static_cast<size_t>(events));
  raw.event.reserve(static_cast<size_t>(events));
  core::Progress progress("generating users", o.users);
  std::vector<int64_t> fav;
  for (int64_t u = 0; u < o.users; ++u) {
    int32_t uid = raw.users.add_new(std::to_string(u));
    fav.clear();
    int64_t n_fav = std::min<int64_t>(1 + rng.below(3), C);
    while (static_cast<int64_t>(fav.size()) < n_fav) {
      int64_t c = rng.below(C);
      if (std::find(fav.begin(), fav.end(), c) == fav.end()) fav.push_back(c);
    }
    const int32_t len = lengths[static_cast<size_t>(u)];
    int64_t t = 1500000000 + times.below(365 * 86400);
    int64_t cur_cat = fav[0];
    int32_t prev = -1;
    for (int32_t k = 0; k < len; ++k) {
      double r = rng.uniform();
      int32_t item;
      if (prev >= 0 && r < kMarkovProb) {
        item = g.succ[static_cast<size_t>(prev * kSuccessors + rng.below(kSuccessors))];
      } else if (r < kMarkovProb + kExploreProb) {
        item = static_cast<int32_t>(draw(g.cum_global, 0, I, rng));
      } else {
        if (rng.uniform() >= kStayProb) cur_cat = fav[static_cast<size_t>(rng.below(n_fav))];
        item = g.draw_in_cat(cur_cat, rng);
      }
      t += 60 + times.below(86400);
      raw.add(uid, item, t, static_cast<int8_t>(EventType::kView));
      prev = item;
    }
    progress.advance();
  }
  progress.finish();
  if (o.cover_items) cover_all_items(g.cat, C, mix_seeds(o.seed, kCover), &raw);
  return raw;
}

}  // namespace divrec::data
