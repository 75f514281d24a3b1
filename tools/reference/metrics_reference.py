#!/usr/bin/python3
"""Independent reference values for the re-rankers and metrics (tests/eval/*).

Everything is written from the papers' definitions in float64 numpy, deliberately by a different
route than the C++ code: DPP by brute-force log-determinants (numpy.linalg.slogdet) instead of
incremental Cholesky, Gini by the mean-absolute-difference formula instead of the sorted one,
the alpha-NDCG ideal by greedy search over a catalog instead of the round-robin closed form,
calibration by recomputing the KL of every candidate list. Inputs are fixed formulas reproduced
exactly in the C++ tests. Run: /usr/bin/python3 tools/reference/metrics_reference.py
"""
import math

import numpy as np

# ---- fixed re-ranking input: 12 items, 8-d vectors (kernel rank 9 > every k used), scores,
# categories ----
I, D = 12, 8


def vectors():
    return np.array([[math.sin(1.1 * i + 0.7 * d + 0.3) + 0.2 * math.cos(2.3 * i * d)
                      for d in range(D)] for i in range(I)])


SCORES = np.array([math.cos(0.9 * i) - 0.03 * i for i in range(I)])
CATEGORY = [i % 4 for i in range(I)]   # 4 categories
HISTORY = [0, 0, 1, 2, 0]              # items 0,0,1,2,0 -> categories 0,0,1,2,0


def cosine_kernel():
    v = vectors()
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return 0.5 * (1.0 + v @ v.T)   # S = (1 + cos) / 2


def rel_norm():
    s = SCORES
    return (s - s.min()) / (s.max() - s.min())


def dpp_greedy(theta, k, window=0):
    """Greedy MAP; also returns the smallest gap between the best and second-best gain over the
    steps (the fixed examples are chosen with gaps far above float rounding)."""
    q = np.exp(theta * rel_norm())
    L = q[:, None] * cosine_kernel() * q[None, :]
    chosen = []
    min_gap = np.inf
    for _ in range(k):
        # the window: the last window - 1 picks (all picks when window = 0)
        win = chosen if window == 0 else chosen[max(0, len(chosen) - (window - 1)):]
        base = np.linalg.slogdet(L[np.ix_(win, win)])[1] if win else 0.0
        gains = {}
        for i in range(I):
            if i in chosen:
                continue
            s = win + [i]
            gains[i] = np.linalg.slogdet(L[np.ix_(s, s)])[1] - base
        order = sorted(gains, key=lambda i: -gains[i])
        if len(order) > 1:
            min_gap = min(min_gap, gains[order[0]] - gains[order[1]])
        chosen.append(order[0])
    return chosen, min_gap


def mmr(lam, k):
    v = vectors()
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = v @ v.T
    rel = rel_norm()
    chosen = []
    for _ in range(k):
        best, best_gain = None, -np.inf
        for i in range(I):
            if i in chosen:
                continue
            pen = max(cos[i, j] for j in chosen) if chosen else 0.0
            g = lam * rel[i] - (1 - lam) * pen
            if g > best_gain:
                best, best_gain = i, g
        chosen.append(best)
    return chosen


def history_dist():
    cats = sorted(set(CATEGORY[h] for h in HISTORY))
    return {c: sum(CATEGORY[h] == c for h in HISTORY) / len(HISTORY) for c in cats}


def xquad(lam, k):
    p = history_dist()
    rel = rel_norm()
    chosen = []
    for _ in range(k):
        best, best_gain = None, -np.inf
        for i in range(I):
            if i in chosen:
                continue
            div = 0.0
            for c, pc in p.items():
                p_ic = 1.0 if CATEGORY[i] == c else 0.0
                prod = np.prod([1.0 - (1.0 if CATEGORY[j] == c else 0.0) for j in chosen])
                div += pc * p_ic * prod
            g = (1 - lam) * rel[i] + lam * div
            if g > best_gain:
                best, best_gain = i, g
        chosen.append(best)
    return chosen


def kl_of_list(lst, alpha):
    p = history_dist()
    n = len(lst)
    kl = 0.0
    for c, pc in p.items():
        qc = sum(CATEGORY[j] == c for j in lst) / n if n else 0.0
        kl += pc * math.log(pc / ((1 - alpha) * qc + alpha * pc))
    return kl


def calibrated(lam, alpha, k):
    rel = rel_norm()
    chosen = []
    for _ in range(k):
        best, best_gain = None, -np.inf
        for i in range(I):
            if i in chosen:
                continue
            lst = chosen + [i]
            g = (1 - lam) * sum(rel[j] for j in lst) - lam * kl_of_list(lst, alpha)
            if g > best_gain:
                best, best_gain = i, g
        chosen.append(best)
    return chosen


# ---- exposure metrics ----
def gini_mad(x):
    x = np.asarray(x, dtype=float)
    n = len(x)
    if x.sum() == 0:
        return 0.0
    return np.abs(x[:, None] - x[None, :]).sum() / (2.0 * n * n * x.mean())


def entropy_bits(x):
    x = np.asarray(x, dtype=float)
    p = x[x > 0] / x.sum()
    return float(-(p * np.log2(p)).sum())


# ---- alpha-NDCG (Clarke et al. 2008), ideal by greedy search over the catalog ----
def alpha_ndcg(lst, targets, cat_of, catalog, k, alpha):
    topics = set(cat_of[t] for t in targets)

    def gains(seq):
        seen = {}
        out = []
        for it in seq:
            c = cat_of[it]
            if c in topics:
                out.append((1 - alpha) ** seen.get(c, 0))
                seen[c] = seen.get(c, 0) + 1
            else:
                out.append(0.0)
        return out

    def dcg(g):
        return sum(v / math.log2(r + 2) for r, v in enumerate(g))

    ideal, pool = [], list(catalog)
    for _ in range(k):
        best, best_g = None, -1.0
        for it in pool:
            g = gains(ideal + [it])[-1]
            if g > best_g:
                best, best_g = it, g
        ideal.append(best)
        pool.remove(best)
    return dcg(gains(lst[:k])) / dcg(gains(ideal))


def main():
    for theta, k, window in ((1.2, 6, 0), (1.2, 6, 3), (0.6, 8, 0), (0.5, 8, 4)):
        order, gap = dpp_greedy(theta, k, window)
        print("dpp theta=%g k=%d window=%d: %s (smallest log-det gain gap %.3g)"
              % (theta, k, window, order, gap))
    print("mmr lambda=0.6 k=6:", mmr(0.6, 6))
    print("xquad lambda=0.7 k=6:", xquad(0.7, 6))
    print("calibrated lambda=0.9 alpha=0.01 k=6:", calibrated(0.9, 0.01, 6))
    print("calibration kl of [3,7,4,8] alpha=0.01: %.12f" % kl_of_list([3, 7, 4, 8], 0.01))
    for x in ([0, 0, 1, 3], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [0, 0, 0, 10], [7, 0, 2, 0, 0, 1]):
        print("gini %s: %.15f  entropy_bits: %.15f" % (x, gini_mad(x), entropy_bits(x)))
    # alpha-NDCG: catalog of 10 items, category = item % 3 except items 8, 9 in category 3;
    # target items 1 and 5 (categories 1 and 2); the list 4, 2, 7, 0, 5.
    cat_of = {i: (i % 3 if i < 8 else 3) for i in range(10)}
    print("alpha_ndcg@5 list [4,2,7,0,5] targets [1,5]: %.15f"
          % alpha_ndcg([4, 2, 7, 0, 5], [1, 5], cat_of, range(10), 5, 0.5))
    print("alpha_ndcg@3 list [4,2,7,0,5] targets [1,5]: %.15f"
          % alpha_ndcg([4, 2, 7, 0, 5], [1, 5], cat_of, range(10), 3, 0.5))


if __name__ == "__main__":
    main()
