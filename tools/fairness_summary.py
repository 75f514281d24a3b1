#!/usr/bin/python3
"""Acceptance table of bench/beauty_fairness.sh from the two tolerance-sweep CSVs.

usage: fairness_summary.py CATEGORY.csv POPULARITY.csv [--max-loss 0.05]
Reference = plain relevance ranking (method none, tolerance 1: pass 0, no multipliers). Per
method: the method alone (tolerance 1), and the tightest tolerance whose NDCG@10 is within
max-loss of the reference, with category_exposure_tvd@10 (category CSV) or long_tail_share@10
(popularity CSV) and the relative change against the reference. Markdown on stdout.
"""
import argparse
import csv


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def table(path, metric, goal, max_loss):
    rs = rows(path)
    ref = next(r for r in rs if r["method"] == "none" and float(r["value"]) == 1.0)
    n0, m0 = float(ref["ndcg@10"]), float(ref[metric])
    out = [f"| method | tolerance | NDCG@10 | vs relevance | {metric} | vs relevance | passes | "
           f"target met |", "|---|---|---|---|---|---|---|---|"]
    for method in dict.fromkeys(r["method"] for r in rs):
        mine = [r for r in rs if r["method"] == method]
        alone = next(r for r in mine if float(r["value"]) == 1.0)
        ok = [r for r in mine if float(r["ndcg@10"]) >= (1 - max_loss) * n0]
        best = min(ok, key=lambda r: float(r["value"])) if ok else None
        for label, r in (("alone", alone), ("fair", best)):
            if r is None:
                out.append(f"| {method} | no tolerance within {max_loss:.0%} | | | | | | no |")
                continue
            n, m = float(r["ndcg@10"]), float(r[metric])
            dn, dm = (n - n0) / n0, (m - m0) / m0
            met = (dn >= -max_loss) and goal(dm)
            tol = "(none)" if label == "alone" else r["value"]
            out.append(f"| {method} | {tol} | {n:.4f} | {dn:+.1%} | {m:.4f} | {dm:+.1%} | "
                       f"{int(float(r['fairness_passes']))} | {'yes' if met else 'no'} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("category")
    ap.add_argument("popularity")
    ap.add_argument("--max-loss", type=float, default=0.05)
    a = ap.parse_args()
    print("### Category exposure (target: catalog share; goal: category_exposure_tvd@10 -50 %)\n")
    print(table(a.category, "category_exposure_tvd@10", lambda d: d <= -0.5, a.max_loss))
    print("\n### Long tail (popularity bins, head = 20 %; goal: long_tail_share@10 +50 %)\n")
    print(table(a.popularity, "long_tail_share@10", lambda d: d >= 0.5, a.max_loss))


if __name__ == "__main__":
    main()
