#!/usr/bin/python3
"""Summarise bench/beauty_frontier.sh: per re-ranking method, the setting with the largest
ILD@10 gain and the one with the largest category-coverage@10 gain among those losing at most
5 % NDCG@10 (relative) against `none`; then every constrained run (NAME_mincat8.json) with its
changes, infeasible users and constraint satisfaction.

usage: frontier_table.py OUT_DIR   (reads none.json, METHOD.csv, *_mincat8.json)
"""
import csv
import json
import os
import sys

K = 10
MAX_LOSS = 0.05


def main():
    out = sys.argv[1]
    base = json.load(open(os.path.join(out, "none.json")))["metrics"]
    n0, ild0, cov0 = base[f"ndcg@{K}"], base[f"ild@{K}"], base[f"category_coverage@{K}"]
    print(json.dumps({"method": "none", "ndcg@10": n0, "ild@10": ild0,
                      "category_coverage@10": cov0}))
    rows = []
    methods = ("mmr", "dpp", "xquad", "calibrated", "mmr_jaccard")
    for method in methods:
        path = os.path.join(out, f"{method}.csv")
        if not os.path.exists(path):
            continue
        for r in csv.DictReader(open(path)):
            n, ild, cov = (float(r[f"ndcg@{K}"]), float(r[f"ild@{K}"]),
                           float(r[f"category_coverage@{K}"]))
            rows.append({"method": method, "setting": r["setting"], "ndcg@10": n,
                         "ndcg_change": n / n0 - 1, "ild_change": ild / ild0 - 1,
                         "coverage_change": cov / cov0 - 1})
    for r in rows:
        print(json.dumps(r))
    print()
    print(f"none: NDCG@10 {n0:.4f}, ILD@10 {ild0:.4f}, category coverage@10 {cov0:.4f}")
    print()
    print("| method | best ILD@10 gain (setting, NDCG@10 change) | best category coverage@10 gain "
          "(setting, NDCG@10 change) |")
    print("|---|---|---|")
    for method in methods:
        ok = [r for r in rows if r["method"] == method and r["ndcg_change"] >= -MAX_LOSS]
        if not ok:
            print(f"| {method} | none within {MAX_LOSS:.0%} | none within {MAX_LOSS:.0%} |")
            continue
        a = max(ok, key=lambda r: r["ild_change"])
        b = max(ok, key=lambda r: r["coverage_change"])
        print(f"| {method} | {a['ild_change']:+.1%} ({a['setting']}, {a['ndcg_change']:+.1%}) | "
              f"{b['coverage_change']:+.1%} ({b['setting']}, {b['ndcg_change']:+.1%}) |")
    print()
    print("| constrained run (>= 8 categories in 10) | NDCG@10 change | ILD@10 change | "
          "category coverage@10 change | infeasible users | constraint satisfied |")
    print("|---|---|---|---|---|---|")
    for name in ("none", "mmr", "dpp", "xquad", "calibrated"):
        path = os.path.join(out, f"{name}_mincat8.json")
        if not os.path.exists(path):
            continue
        c = json.load(open(path))
        m = c["metrics"]
        print(f"| {name} ({json.dumps(c['rerank'])}) | {m['ndcg@10'] / n0 - 1:+.1%} | "
              f"{m['ild@10'] / ild0 - 1:+.1%} | {m['category_coverage@10'] / cov0 - 1:+.1%} | "
              f"{c['infeasible_users']} | {m['constraint_satisfied']:.4f} |")


if __name__ == "__main__":
    main()
