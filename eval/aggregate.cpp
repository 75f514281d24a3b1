// MetricAccumulator: 128-bit fixed-point sums in 32-bit limbs, exposure histograms, and the
// one-reduction finalize. The key list is exchanged first (allgatherv of names) so a rank that
// never saw some metric still packs the same vector layout; the union also detects ranks configured
// differently.
#include "eval/aggregate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/comm/typed.h"

namespace divrec::eval {

namespace {

constexpr double kTwo64 = 18446744073709551616.0;  // 2^64
constexpr double kMaxAbsValue = 2147483648.0;      // 2^31: |sum| stays below 2^62 * 2^64

}  // namespace

MetricAccumulator::MetricAccumulator(std::shared_ptr<const ExposureContext> context,
                                     std::vector<int> ks)
    : context_(std::move(context)), ks_(std::move(ks)) {
  DIVREC_CHECK(context_ != nullptr, "metric accumulator needs an exposure context");
  DIVREC_CHECK(!ks_.empty(), "metric accumulator needs at least one cut-off K");
  for (size_t i = 0; i < ks_.size(); ++i) {
    DIVREC_CHECK(ks_[i] > 0, "cut-offs must be > 0, got ", ks_[i]);
    for (size_t j = 0; j < i; ++j) DIVREC_CHECK(ks_[i] != ks_[j], "cut-off ", ks_[i], " repeated");
  }
  exposure_.assign(ks_.size(), std::vector<int64_t>(static_cast<size_t>(context_->num_items), 0));
}

int MetricAccumulator::slot(const std::string& name) {
  auto it = slots_.find(name);
  if (it != slots_.end()) return it->second;
  DIVREC_CHECK(!name.empty() && name.find('\n') == std::string::npos,
               "metric names must be non-empty single-line strings, got '", name, "'");
  DIVREC_CHECK(counters_.count(name) == 0, "'", name, "' is already a counter");
  const int s = static_cast<int>(names_.size());
  names_.push_back(name);
  sums_.emplace_back();
  slots_.emplace(name, s);
  return s;
}

void MetricAccumulator::add(int slot, double value) {
  DIVREC_CHECK(slot >= 0 && slot < static_cast<int>(sums_.size()), "unknown metric slot ", slot);
  DIVREC_CHECK(std::isfinite(value) && std::fabs(value) < kMaxAbsValue, "metric '",
               names_[static_cast<size_t>(slot)], "' got value ", value,
               "; per-user values must be finite with |value| < 2^31");
  // x * 2^64 is exact in double (a power-of-two scale); truncation to 128 bits drops < 2^-64.
  const __int128 v = static_cast<__int128>(value * kTwo64);
  const unsigned __int128 u = static_cast<unsigned __int128>(v);
  Sum& s = sums_[static_cast<size_t>(slot)];
  s.count += 1;
  s.limb[0] += static_cast<int64_t>(u & 0xFFFFFFFFu);
  s.limb[1] += static_cast<int64_t>((u >> 32) & 0xFFFFFFFFu);
  s.limb[2] += static_cast<int64_t>((u >> 64) & 0xFFFFFFFFu);
  s.limb[3] += static_cast<int64_t>(v >> 96);  // arithmetic shift: the signed top limb
}

void MetricAccumulator::count(const std::string& name, int64_t n) {
  DIVREC_CHECK(slots_.count(name) == 0, "'", name, "' is already a per-user metric");
  DIVREC_CHECK(!name.empty() && name.find('\n') == std::string::npos,
               "counter names must be non-empty single-line strings, got '", name, "'");
  counters_[name] += n;
}

void MetricAccumulator::expose(const int32_t* list, int len) {
  for (size_t j = 0; j < ks_.size(); ++j) {
    int64_t* h = exposure_[j].data();
    for (int p = 0, e = std::min(len, ks_[j]); p < e; ++p) {
      const int32_t item = list[p];
      DIVREC_CHECK(item >= 0 && item < context_->num_items, "exposed item ", item, " outside [0, ",
                   context_->num_items, ")");
      ++h[item];
    }
  }
}

void MetricAccumulator::merge(const MetricAccumulator& other) {
  DIVREC_CHECK(other.context_ == context_ && other.ks_ == ks_,
               "merging metric accumulators with different catalogs or cut-offs");
  for (size_t s = 0; s < other.names_.size(); ++s) {
    Sum& mine = sums_[static_cast<size_t>(slot(other.names_[s]))];
    mine.count += other.sums_[s].count;
    for (int j = 0; j < 4; ++j) mine.limb[j] += other.sums_[s].limb[j];
  }
  for (const auto& [name, n] : other.counters_) count(name, n);
  for (size_t j = 0; j < ks_.size(); ++j) {
    for (size_t i = 0; i < exposure_[j].size(); ++i) exposure_[j][i] += other.exposure_[j][i];
  }
}

int MetricAccumulator::k_index(int k) const {
  auto it = std::find(ks_.begin(), ks_.end(), k);
  DIVREC_CHECK(it != ks_.end(), "cut-off ", k, " is not among the accumulator's cut-offs");
  return static_cast<int>(it - ks_.begin());
}

std::map<std::string, double> MetricAccumulator::finalize(core::Communicator& comm) {
  // 1. The union of keys over ranks: "m:" per-user metrics, "c:" counters, "h:" the layout.
  std::ostringstream layout;
  layout << "h:items=" << context_->num_items << ";ks=";
  for (int k : ks_) layout << k << ",";
  std::string local = layout.str() + "\n";
  for (const auto& n : names_) local += "m:" + n + "\n";
  for (const auto& [n, v] : counters_) local += "c:" + n + "\n";
  std::vector<uint8_t> bytes(local.begin(), local.end());
  std::vector<uint8_t> all = core::allgatherv(comm, bytes);
  std::set<std::string> keys;
  std::string cur;
  for (uint8_t b : all) {
    if (b == '\n') {
      keys.insert(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(b));
    }
  }
  int layouts = 0;
  for (const auto& key : keys) layouts += key.rfind("h:", 0) == 0;
  DIVREC_CHECK_HINT(layouts == 1, "every rank must evaluate the same catalog with the same --ks",
                    "ranks disagree on the metric layout (item count or cut-offs)");

  // 2. One int64 vector in key order, then the exposure histograms; one all-reduce.
  std::vector<int64_t> packed;
  for (const auto& key : keys) {
    const std::string name = key.substr(2);
    if (key[0] == 'm') {
      auto it = slots_.find(name);
      Sum s = it == slots_.end() ? Sum{} : sums_[static_cast<size_t>(it->second)];
      packed.insert(packed.end(), {s.count, s.limb[0], s.limb[1], s.limb[2], s.limb[3]});
    } else if (key[0] == 'c') {
      auto it = counters_.find(name);
      packed.push_back(it == counters_.end() ? 0 : it->second);
    }
  }
  const size_t hist_at = packed.size();
  for (const auto& h : exposure_) packed.insert(packed.end(), h.begin(), h.end());
  core::allreduce_sum(comm, packed);

  // 3. Means, counters, then global metrics from the global histograms.
  std::map<std::string, double> out;
  std::map<std::string, int64_t> metric_counts;
  size_t pos = 0;
  for (const auto& key : keys) {
    const std::string name = key.substr(2);
    if (key[0] == 'm') {
      const int64_t n = packed[pos];
      __int128 total = packed[pos + 4];  // rebuild l3 2^96 + l2 2^64 + l1 2^32 + l0 exactly
      for (int j = 3; j >= 1; --j) total = total * (__int128{1} << 32) + packed[pos + j];
      pos += kSumWords;
      const double sum = static_cast<double>(total) / kTwo64;
      out[name] = n > 0 ? sum / static_cast<double>(n) : 0.0;
      metric_counts[name] = n;
    } else if (key[0] == 'c') {
      out[name] = static_cast<double>(packed[pos++]);
    }
  }
  auto users = out.find("users");
  for (const auto& [name, n] : metric_counts) {
    if (users == out.end() || static_cast<double>(n) != users->second) {
      out[name + ".count"] = static_cast<double>(n);
    }
  }
  const int64_t num_items = context_->num_items;
  global_exposure_.assign(ks_.size(), {});
  category_share_.assign(ks_.size(), {});
  for (size_t j = 0; j < ks_.size(); ++j) {
    const int64_t* h = packed.data() + hist_at + j * static_cast<size_t>(num_items);
    global_exposure_[j].assign(h, h + num_items);
    const std::string at = "@" + std::to_string(ks_[j]);
    out["catalog_coverage" + at] = catalog_coverage(h, num_items);
    out["gini" + at] = gini_index(h, num_items);
    out["exposure_entropy" + at] = exposure_entropy_bits(h, num_items);
    out["long_tail_share" + at] = long_tail_share(h, context_->head.data(), num_items);
    category_share_[j] = context_->category_share(h);
    out["category_exposure_tvd" + at] =
        total_variation(category_share_[j], context_->catalog_share);
  }
  return out;
}

const std::vector<double>& MetricAccumulator::category_exposure_share(int k) const {
  DIVREC_CHECK(!category_share_.empty(), "category_exposure_share() before finalize()");
  return category_share_[static_cast<size_t>(k_index(k))];
}

const std::vector<int64_t>& MetricAccumulator::global_exposure(int k) const {
  DIVREC_CHECK(!global_exposure_.empty(), "global_exposure() before finalize()");
  return global_exposure_[static_cast<size_t>(k_index(k))];
}

}  // namespace divrec::eval
