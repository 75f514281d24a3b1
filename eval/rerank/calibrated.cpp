// Steck's greedy calibration. Adding an item of category c changes q for every category (the
// denominator grows), so per step we compute the KL once for "an item outside p's support", then
// adjust the one term that differs for each category in p's support: O(|p| + n) per step.
// Items without a category leave q unchanged. An empty p (no categorised history) means KL = 0.
#include "eval/rerank/calibrated.h"

#include <fmt/format.h>

#include <cmath>

#include "eval/rerank/constraints.h"

namespace divrec::eval {

namespace {

// One KL term p log(p / ((1 - alpha) cnt / listed + alpha p)); listed = 0 means q = 0.
inline double kl_term(double p, double cnt, double listed, double alpha) {
  const double q = listed > 0 ? cnt / listed : 0.0;
  return p * std::log(p / ((1.0 - alpha) * q + alpha * p));
}

}  // namespace

double calibration_kl(const double* p, const double* count, size_t m, int64_t listed,
                      double alpha) {
  double kl = 0;
  for (size_t j = 0; j < m; ++j) kl += kl_term(p[j], count[j], static_cast<double>(listed), alpha);
  return kl;
}

std::string CalibratedReranker::name() const {
  return fmt::format("calibrated(lambda={},alpha={})", lambda_, alpha_);
}

void CalibratedReranker::begin(const GreedyList& list, Workspace& ws) const {
  const int n = list.n;
  const CategoryDistribution& h = *list.history;
  int32_t* idx = grow(ws.dist_index, static_cast<size_t>(std::max(n, 1)));
  for (int i = 0; i < n; ++i) {
    const int32_t c = category_of(table_, list.items[i]);
    idx[i] = c < 0 ? -2 : h.find(c);  // -2: no category, -1: outside p's support
  }
  const size_t m = std::max<size_t>(h.size(), 1);
  double* count = grow(ws.dist_count, m);
  std::fill(count, count + m, 0.0);
  grow(ws.dist_kl, m);
  ws.dist_listed = 0;
}

void CalibratedReranker::gains(const GreedyList& list, Workspace& ws, float* gain) const {
  const CategoryDistribution& h = *list.history;
  const double a = 1.0 - lambda_;
  if (h.empty()) {
    for (int i = 0; i < list.n; ++i) gain[i] = static_cast<float>(a * list.rel[i]);
    return;
  }
  const size_t m = h.size();
  const double* p = h.probs.data();
  const double* cnt = ws.dist_count.data();
  double* kl = ws.dist_kl.data();
  const double listed = ws.dist_listed;
  const double grown = listed + 1;
  // KL after adding an item outside p's support (every q shrinks by listed / (listed + 1)).
  double outside = 0;
  for (size_t j = 0; j < m; ++j) outside += kl_term(p[j], cnt[j], grown, alpha_);
  for (size_t j = 0; j < m; ++j) {
    kl[j] =
        outside - kl_term(p[j], cnt[j], grown, alpha_) + kl_term(p[j], cnt[j] + 1, grown, alpha_);
  }
  const double unchanged = calibration_kl(p, cnt, m, ws.dist_listed, alpha_);
  const int32_t* idx = ws.dist_index.data();
  for (int i = 0; i < list.n; ++i) {
    const double k = idx[i] >= 0 ? kl[idx[i]] : (idx[i] == -1 ? outside : unchanged);
    gain[i] = static_cast<float>(a * list.rel[i] - lambda_ * k);
  }
}

void CalibratedReranker::commit(const GreedyList&, int pos, const float*, Workspace& ws) const {
  const int32_t j = ws.dist_index[static_cast<size_t>(pos)];
  if (j >= 0) ws.dist_count[static_cast<size_t>(j)] += 1;
  if (j != -2) ++ws.dist_listed;
}

}  // namespace divrec::eval
