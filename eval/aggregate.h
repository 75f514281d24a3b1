// Exact distributed aggregation of evaluation metrics. Each rank (or thread) accumulates per-user
// metric values and item exposure histograms; finalize() all-reduces one int64 vector once and
// computes every global metric from the global histograms. Per-user values are summed as 2^-64
// fixed-point integers (split in 32-bit limbs; integer sums are associative), so results are
// bit-identical for any number of ranks or threads and any split of the users, and exact up to
// the final rounding to double.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/comm/communicator.h"
#include "eval/metrics/exposure.h"

namespace divrec::eval {

class MetricAccumulator {
 public:
  // ks: the cut-offs whose exposure histograms are kept (metric names use "name@k").
  MetricAccumulator(std::shared_ptr<const ExposureContext> context, std::vector<int> ks);

  // A stable handle for a per-user metric ("ndcg@10"; lower-case by convention), for hot loops.
  int slot(const std::string& name);
  // Adds one user's value (finite, |value| < 2^31) to the metric's sum and count.
  void add(int slot, double value);
  void add(const std::string& name, double value) { add(slot(name), value); }
  // Plain counters ("users", "infeasible_users"), reported as totals.
  void count(const std::string& name, int64_t n = 1);
  // Exposure of a recommended list: for each K, items list[0 .. min(K, len)) once per position.
  void expose(const int32_t* list, int len);
  // Adds another accumulator (same context and ks), e.g. from another thread.
  void merge(const MetricAccumulator& other);

  // Collective (every rank must call it): returns the mean of every per-user metric, every
  // counter, and per K: catalog_coverage@k, gini@k, exposure_entropy@k (bits),
  // long_tail_share@k, category_exposure_tvd@k. A per-user metric whose count differs from the
  // "users" counter also gets "<name>.count". The accumulator is not changed.
  std::map<std::string, double> finalize(core::Communicator& comm);

  // After finalize(): the global exposure share of each category at cut-off k, and the catalog
  // share it is compared with.
  const std::vector<double>& category_exposure_share(int k) const;
  const std::vector<double>& category_catalog_share() const { return context_->catalog_share; }
  const std::vector<int>& ks() const { return ks_; }
  // After finalize(): the global item exposure histogram at cut-off k.
  const std::vector<int64_t>& global_exposure(int k) const;

 private:
  // v = trunc(x * 2^64) as a 128-bit integer = l3 2^96 + l2 2^64 + l1 2^32 + l0 with l0..l2 in
  // [0, 2^32) and l3 signed; each limb is summed separately in int64 (no overflow below 2^31
  // users) and the total is rebuilt exactly in 128 bits.
  struct Sum {
    int64_t count = 0;
    int64_t limb[4] = {0, 0, 0, 0};
  };
  static constexpr int kSumWords = 5;
  int k_index(int k) const;

  std::shared_ptr<const ExposureContext> context_;
  std::vector<int> ks_;
  std::vector<std::string> names_;              // slot -> name
  std::unordered_map<std::string, int> slots_;  // name -> slot
  std::vector<Sum> sums_;                       // per slot
  std::map<std::string, int64_t> counters_;
  std::vector<std::vector<int64_t>> exposure_;  // per K: [I]
  std::vector<std::vector<int64_t>> global_exposure_;
  std::vector<std::vector<double>> category_share_;  // per K, after finalize
};

}  // namespace divrec::eval
