// synthetic converter: generated users and items with planted structure, straight into arrays.
// Items have Zipf popularity, a category, attributes drawn mostly from their category's block,
// and content vectors = category centroid + noise. Users have 1-3 favourite categories; each
// next event follows the previous item's successors (Markov), stays in a favourite category, or
// explores globally. Our own PRNG and Box-Muller keep it identical on every platform.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/convert/converters.h"
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

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
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

}  // namespace

RawDataset convert_synthetic(const SyntheticOptions& o) {
  DIVREC_CHECK_HINT(o.users > 0 && o.items > 0 && o.categories > 0 && o.categories <= o.items,
                    "pass --users, --items > 0 and 0 < --categories <= --items",
                    "synthetic: users ", o.users, ", items ", o.items, ", categories ",
                    o.categories);
  DIVREC_CHECK_HINT(o.attributes >= 0 && o.content_dim >= 0 && o.mean_length >= 3,
                    "pass --attributes >= 0, --content-dim >= 0, --mean-length >= 3",
                    "synthetic: attributes ", o.attributes, ", content_dim ", o.content_dim,
                    ", mean_length ", o.mean_length);
  Rng rng(o.seed);
  RawDataset raw;
  raw.source = "synthetic";
  raw.input = "synthetic(users=" + std::to_string(o.users) + ",items=" + std::to_string(o.items) +
              ",categories=" + std::to_string(o.categories) + ",seed=" + std::to_string(o.seed) +
              ")";
  raw.category_method = "synthetic-planted";
  const auto I = o.items, C = o.categories, A = o.attributes;
  for (int64_t c = 0; c < C; ++c) raw.categories.intern(std::to_string(c));
  for (int64_t a = 0; a < A; ++a) raw.attributes.intern(std::to_string(a));

  // Items grouped by category: by_cat[cat_begin[c], cat_begin[c+1]) are category c's items.
  std::vector<int32_t> cat(static_cast<size_t>(I));
  for (int64_t i = 0; i < I; ++i)
    cat[static_cast<size_t>(i)] = static_cast<int32_t>(i < C ? i : rng.below(C));
  std::vector<int64_t> zipf_rank(static_cast<size_t>(I));
  std::iota(zipf_rank.begin(), zipf_rank.end(), 0);
  for (int64_t i = I - 1; i > 0; --i)
    std::swap(zipf_rank[static_cast<size_t>(i)], zipf_rank[static_cast<size_t>(rng.below(i + 1))]);
  std::vector<int32_t> by_cat(static_cast<size_t>(I));
  std::iota(by_cat.begin(), by_cat.end(), 0);
  std::stable_sort(by_cat.begin(), by_cat.end(), [&](int32_t a, int32_t b) {
    return cat[static_cast<size_t>(a)] < cat[static_cast<size_t>(b)];
  });
  std::vector<int64_t> cat_begin(static_cast<size_t>(C) + 1, 0);
  for (int32_t c : cat) ++cat_begin[static_cast<size_t>(c) + 1];
  std::partial_sum(cat_begin.begin(), cat_begin.end(), cat_begin.begin());
  std::vector<double> weight(static_cast<size_t>(I)), cum_global(static_cast<size_t>(I)),
      cum_cat(static_cast<size_t>(I));
  for (int64_t i = 0; i < I; ++i) {
    weight[static_cast<size_t>(i)] =
        std::pow(static_cast<double>(zipf_rank[static_cast<size_t>(i)] + 1), -kZipfExponent);
  }
  std::partial_sum(weight.begin(), weight.end(), cum_global.begin());
  // Cumulative weights in by_cat order: a category's items are one contiguous range of it.
  for (int64_t k = 0; k < I; ++k) {
    cum_cat[static_cast<size_t>(k)] = weight[static_cast<size_t>(by_cat[static_cast<size_t>(k)])] +
                                      (k > 0 ? cum_cat[static_cast<size_t>(k - 1)] : 0.0);
  }
  auto draw_in_cat = [&](int64_t c) {
    return by_cat[static_cast<size_t>(draw(cum_cat, cat_begin[static_cast<size_t>(c)],
                                           cat_begin[static_cast<size_t>(c) + 1], rng))];
  };

  // Item side info: ids "0".."I-1" interned up front so content rows line up with raw indices.
  const int64_t D = o.content_dim;
  std::vector<double> centroid(static_cast<size_t>(C * D));
  for (auto& x : centroid) x = rng.normal();
  raw.content_dim = D;
  raw.content_model = D > 0 ? "synthetic-gaussian" : "";
  raw.content.resize(static_cast<size_t>(I * D));
  std::vector<int32_t> succ(static_cast<size_t>(I * kSuccessors));
  for (int64_t i = 0; i < I; ++i) {
    raw.items.intern(std::to_string(i));
    const int32_t c = cat[static_cast<size_t>(i)];
    raw.set_category(static_cast<int32_t>(i), c);
    if (A > 0) {
      int64_t n_attr = 1 + rng.below(3);
      int64_t block = std::max<int64_t>(1, A / C);
      int64_t home = c + C * rng.below(block);  // attributes a with a % C == c belong to c
      raw.add_attribute(static_cast<int32_t>(i),
                        static_cast<int32_t>(home < A ? home : rng.below(A)));
      for (int64_t k = 1; k < n_attr; ++k)
        raw.add_attribute(static_cast<int32_t>(i), static_cast<int32_t>(rng.below(A)));
    }
    for (int64_t d = 0; d < D; ++d) {
      raw.content[static_cast<size_t>(i * D + d)] = static_cast<float>(
          centroid[static_cast<size_t>(c * D + d)] + kContentNoise * rng.normal());
    }
  }
  for (int64_t i = 0; i < I; ++i) {
    for (int k = 0; k < kSuccessors; ++k)
      succ[static_cast<size_t>(i * kSuccessors + k)] = draw_in_cat(cat[static_cast<size_t>(i)]);
  }

  // Users.
  const double extra = o.mean_length - 3;
  raw.user.reserve(static_cast<size_t>(o.users * o.mean_length * 1.1));
  raw.item.reserve(raw.user.capacity());
  raw.time.reserve(raw.user.capacity());
  raw.event.reserve(raw.user.capacity());
  core::Progress progress("generating users", o.users);
  std::vector<int64_t> fav;
  for (int64_t u = 0; u < o.users; ++u) {
    int32_t uid = raw.users.intern(std::to_string(u));
    fav.clear();
    int64_t n_fav = std::min<int64_t>(1 + rng.below(3), C);
    while (static_cast<int64_t>(fav.size()) < n_fav) {
      int64_t c = rng.below(C);
      if (std::find(fav.begin(), fav.end(), c) == fav.end()) fav.push_back(c);
    }
    auto len = 3 + static_cast<int64_t>(-std::log(1.0 - rng.uniform()) * extra);
    len = std::min<int64_t>(len, static_cast<int64_t>(20 * o.mean_length));
    int64_t t = 1500000000 + rng.below(365 * 86400);
    int64_t cur_cat = fav[0];
    int32_t prev = -1;
    for (int64_t k = 0; k < len; ++k) {
      double r = rng.uniform();
      int32_t item;
      if (prev >= 0 && r < kMarkovProb) {
        item = succ[static_cast<size_t>(prev * kSuccessors + rng.below(kSuccessors))];
      } else if (r < kMarkovProb + kExploreProb) {
        item = static_cast<int32_t>(draw(cum_global, 0, I, rng));
      } else {
        if (rng.uniform() >= kStayProb) cur_cat = fav[static_cast<size_t>(rng.below(n_fav))];
        item = draw_in_cat(cur_cat);
      }
      t += 60 + rng.below(86400);
      raw.add(uid, item, t, static_cast<int8_t>(EventType::kView));
      prev = item;
    }
    progress.advance();
  }
  progress.finish();
  return raw;
}

}  // namespace divrec::data
