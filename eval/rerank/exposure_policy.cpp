// Exposure groups, targets, shares, the multiplier policy and its dual step (see
// exposure_policy.h). Everything is a pure function of its inputs in a fixed order, so every rank
// (and serving) computes the same bits from the same reduced counts.
#include "eval/rerank/exposure_policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::eval {

namespace {

constexpr double kHeadFraction = 0.2;  // the head of long_tail_share@k (ExposureContext)

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// "a,b" or "a\tb" lines of a small text file, comments and blank lines skipped; calls
// fn(line_number, first, second).
template <typename Fn>
void read_pairs(const std::string& path, const char* option, Fn fn) {
  DIVREC_CHECK_HINT(core::path_exists(path), "valid: category, popularity-bins[:B] or a file",
                    option, ": '", path, "' is neither a known name nor a file");
  std::istringstream in(core::read_file(path));
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto sep = line.find_first_of(",\t");
    DIVREC_CHECK(sep != std::string::npos, option, ": '", path, "' line ", no,
                 ": expected two fields separated by ',' or a tab, got '", line, "'");
    fn(no, trim(line.substr(0, sep)), trim(line.substr(sep + 1)));
  }
}

ExposureGroups popularity_bins(const data::ItemTable& items, int bins) {
  DIVREC_CHECK(static_cast<int64_t>(items.popularity.size()) == items.num_items,
               "--exposure-groups popularity-bins needs train popularity for every item");
  const int64_t n = items.num_items;
  const std::vector<int32_t> order = items_by_popularity(items);
  const int64_t head =
      std::min<int64_t>(n, static_cast<int64_t>(std::ceil(kHeadFraction * static_cast<double>(n))));
  ExposureGroups g;
  g.item_group.assign(static_cast<size_t>(n), 0);
  g.names.push_back("head");
  const int64_t tail = n - head;
  for (int b = 1; b < bins; ++b) g.names.push_back(bins == 2 ? "tail" : "tail" + std::to_string(b));
  for (int64_t r = head; r < n; ++r) {
    const int64_t bin = 1 + (r - head) * (bins - 1) / std::max<int64_t>(tail, 1);
    g.item_group[static_cast<size_t>(order[static_cast<size_t>(r)])] = static_cast<int32_t>(bin);
  }
  return g;
}

}  // namespace

std::vector<int32_t> items_by_popularity(const data::ItemTable& items) {
  std::vector<int32_t> order(static_cast<size_t>(items.num_items));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const int64_t pa = items.popularity[static_cast<size_t>(a)];
    const int64_t pb = items.popularity[static_cast<size_t>(b)];
    return pa != pb ? pa > pb : a < b;
  });
  return order;
}

ExposureWeights parse_exposure_weights(const std::string& name) {
  if (name == "uniform") return ExposureWeights::kUniform;
  if (name == "log") return ExposureWeights::kLog;
  DIVREC_FAIL("--exposure-weights: unknown '", name, "'; valid: uniform, log");
}

const char* exposure_weights_name(ExposureWeights w) {
  return w == ExposureWeights::kLog ? "log" : "uniform";
}

double position_weight(ExposureWeights w, int p) {
  return w == ExposureWeights::kLog ? 1.0 / std::log2(static_cast<double>(p) + 2.0) : 1.0;
}

ExposureGroups make_exposure_groups(const std::string& spec, const data::ItemTable& items) {
  ExposureGroups g;
  if (spec == "category") {
    DIVREC_CHECK_HINT(items.num_categories > 0 && !items.category.empty(),
                      "use popularity-bins or a group file",
                      "--exposure-groups category: the dataset has no categories");
    g.item_group = items.category;
    g.names = items.category_names;
    if (static_cast<int64_t>(g.names.size()) != items.num_categories) {
      g.names.clear();
      for (int64_t c = 0; c < items.num_categories; ++c) g.names.push_back(std::to_string(c));
    }
  } else if (spec.rfind("popularity-bins", 0) == 0) {
    int bins = 2;
    const std::string rest = spec.substr(std::string("popularity-bins").size());
    if (!rest.empty()) {
      DIVREC_CHECK(rest[0] == ':' && rest.size() > 1 &&
                       rest.find_first_not_of("0123456789", 1) == std::string::npos,
                   "--exposure-groups: expected popularity-bins or popularity-bins:B, got '", spec,
                   "'");
      bins = std::stoi(rest.substr(1));
    }
    DIVREC_CHECK(bins >= 2 && bins <= 1000 && bins <= items.num_items,
                 "--exposure-groups popularity-bins:B needs 2 <= B <= min(1000, items), got ",
                 bins);
    g = popularity_bins(items, bins);
  } else {
    std::unordered_map<std::string, int32_t> dense, group_of;
    for (int64_t i = 0; i < items.num_items; ++i) {
      dense.emplace(items.raw_ids[static_cast<size_t>(i)], static_cast<int32_t>(i));
    }
    g.item_group.assign(static_cast<size_t>(items.num_items), -1);
    read_pairs(spec, "--exposure-groups",
               [&](int no, const std::string& item, const std::string& group) {
                 auto it = dense.find(item);
                 DIVREC_CHECK(it != dense.end(), "--exposure-groups: '", spec, "' line ", no,
                              ": item '", item, "' is not in the dataset's catalog");
                 DIVREC_CHECK(!group.empty(), "--exposure-groups: '", spec, "' line ", no,
                              ": empty group");
                 auto [gi, added] = group_of.emplace(group, static_cast<int32_t>(g.names.size()));
                 if (added) g.names.push_back(group);
                 g.item_group[static_cast<size_t>(it->second)] = gi->second;
               });
    DIVREC_CHECK(g.names.size() >= 2, "--exposure-groups: '", spec,
                 "' must assign items to at least 2 groups, found ", g.names.size());
  }
  g.spec = spec;
  return g;
}

std::vector<double> exposure_target(const std::string& spec, const ExposureGroups& groups) {
  const size_t G = groups.names.size();
  std::vector<double> t(G, 0.0);
  if (spec == "uniform") {
    std::fill(t.begin(), t.end(), 1.0 / static_cast<double>(G));
    return t;
  }
  if (spec == "catalog") {
    for (int32_t g : groups.item_group) {
      if (g >= 0) t[static_cast<size_t>(g)] += 1;
    }
  } else {
    DIVREC_CHECK(spec != "merit", "exposure_target: 'merit' is computed from the candidates");
    std::vector<uint8_t> seen(G, 0);
    read_pairs(spec, "--exposure-target",
               [&](int no, const std::string& name, const std::string& value) {
                 auto it = std::find(groups.names.begin(), groups.names.end(), name);
                 DIVREC_CHECK(it != groups.names.end(), "--exposure-target: '", spec, "' line ", no,
                              ": unknown group '", name, "'");
                 char* end = nullptr;
                 const double v = std::strtod(value.c_str(), &end);
                 DIVREC_CHECK(end != value.c_str() && *end == '\0' && std::isfinite(v) && v >= 0,
                              "--exposure-target: '", spec, "' line ", no, ": share '", value,
                              "' must be a number >= 0");
                 const size_t g = static_cast<size_t>(it - groups.names.begin());
                 t[g] = v;
                 seen[g] = 1;
               });
    for (size_t g = 0; g < G; ++g) {
      DIVREC_CHECK(seen[g], "--exposure-target: '", spec, "' has no share for group '",
                   groups.names[g], "'");
    }
  }
  const double total = std::accumulate(t.begin(), t.end(), 0.0);
  DIVREC_CHECK(total > 0, "--exposure-target ", spec, ": the shares add up to 0");
  for (double& v : t) v /= total;
  return t;
}

void count_group_exposure(const ExposureGroups& groups, const int32_t* list, int len, int k,
                          int64_t* counts) {
  const int64_t I = static_cast<int64_t>(groups.item_group.size());
  for (int p = 0, e = std::min(len, k); p < e; ++p) {
    DIVREC_CHECK(list[p] >= 0 && list[p] < I, "exposed item ", list[p], " outside [0, ", I, ")");
    const int32_t g = groups.item_group[static_cast<size_t>(list[p])];
    if (g >= 0) ++counts[static_cast<size_t>(g) * static_cast<size_t>(k) + static_cast<size_t>(p)];
  }
}

std::vector<double> group_shares(const std::vector<int64_t>& counts, int num_groups, int k,
                                 ExposureWeights weights) {
  DIVREC_CHECK(counts.size() == static_cast<size_t>(num_groups) * static_cast<size_t>(k),
               "group_shares: ", counts.size(), " counts for ", num_groups, " groups x K ", k);
  std::vector<double> share(static_cast<size_t>(num_groups), 0.0);
  double total = 0;
  for (int g = 0; g < num_groups; ++g) {
    for (int p = 0; p < k; ++p) {
      share[g] += position_weight(weights, p) * static_cast<double>(counts[g * k + p]);
    }
    total += share[g];
  }
  if (total > 0) {
    for (double& s : share) s /= total;
  }
  return share;
}

void ExposurePolicy::apply(const int32_t* items, const float* scores, int n,
                           std::vector<int32_t>& order, std::vector<int32_t>& out_items,
                           std::vector<float>& adjusted) const {
  const int64_t I = static_cast<int64_t>(groups.item_group.size());
  std::vector<float> a(static_cast<size_t>(n));  // score' by original position (n = top N)
  order.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    DIVREC_CHECK(items[i] >= 0 && items[i] < I, "candidate item ", items[i], " outside [0, ", I,
                 ")");
    const int32_t g = groups.item_group[static_cast<size_t>(items[i])];
    order[i] = i;
    a[i] = g < 0 ? scores[i]
                 : static_cast<float>(static_cast<double>(scores[i]) + mu[static_cast<size_t>(g)]);
  }
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) { return a[x] > a[y]; });
  out_items.resize(static_cast<size_t>(n));
  adjusted.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    out_items[i] = items[order[i]];
    adjusted[i] = a[order[i]];
  }
}

double fairness_violation(const std::vector<double>& share, const std::vector<double>& target,
                          double tolerance, double floor) {
  double v = 0;
  if (!target.empty()) {
    double tvd = 0;
    for (size_t g = 0; g < share.size(); ++g) tvd += std::fabs(share[g] - target[g]);
    v = std::max(v, 0.5 * tvd - tolerance);
  }
  if (floor > 0) {
    for (double s : share) v = std::max(v, floor - s);
  }
  return v;
}

void dual_step(const std::vector<double>& share, const std::vector<double>& target, double floor,
               double initial_step, DualStepState& state, std::vector<double>& mu) {
  const size_t G = share.size();
  DIVREC_CHECK(mu.size() == G && (target.empty() || target.size() == G), "dual_step: ", G,
               " shares, ", mu.size(), " multipliers, ", target.size(), " targets");
  if (state.eta.size() != G) {
    state.eta.assign(G, initial_step);
    state.last.assign(G, 0.0);
  }
  for (size_t g = 0; g < G; ++g) {
    const double d =
        (target.empty() ? 0.0 : target[g] - share[g]) + std::max(0.0, floor - share[g]);
    if (d * state.last[g] > 0) {
      state.eta[g] *= 1.2;
    } else if (d * state.last[g] < 0) {
      state.eta[g] *= 0.5;
    }
    state.last[g] = d;
    mu[g] += state.eta[g] * d;
  }
  if (!target.empty()) {
    double mean = 0;
    for (double m : mu) mean += m;
    mean /= static_cast<double>(G);
    for (double& m : mu) m -= mean;
  } else {
    for (double& m : mu) m = std::max(0.0, m);
  }
}

}  // namespace divrec::eval
