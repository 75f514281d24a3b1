#!/usr/bin/python3
"""Accuracy-diversity trade-off plot of a `divrec eval --sweep` CSV.

usage: plot_sweep.py SWEEP.csv OUT.png [--k 10]
Two panels: NDCG@K against ILD@K and against category coverage@K, one curve per re-ranking
method, each point labelled with the swept parameter's value. A fair-exposure sweep (a CSV with
exposure_tvd@K) plots NDCG@K against the group exposure TVD@K and the item exposure Gini@K. Needs matplotlib (Debian
python3-matplotlib); divrec keeps the CSV and warns when this script fails.
"""
import argparse
import csv
import os
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"plot_sweep: {args.csv} has no rows")
    y_key = f"ndcg@{args.k}"
    x_keys = [(f"ild@{args.k}", f"ILD@{args.k} (intra-list diversity)"),
              (f"category_coverage@{args.k}", f"category coverage@{args.k}")]
    if f"exposure_tvd@{args.k}" in rows[0]:  # divrec eval --fairness dual --sweep tolerance=...
        x_keys = [(f"exposure_tvd@{args.k}", f"group exposure TVD@{args.k} to the target"),
                  (f"gini@{args.k}", f"item exposure Gini@{args.k}")]
    for key in [y_key] + [k for k, _ in x_keys]:
        if key not in rows[0]:
            sys.exit(f"plot_sweep: column '{key}' missing from {args.csv} "
                     f"(columns: {', '.join(rows[0].keys())})")

    curves = OrderedDict()
    for r in rows:
        curves.setdefault(r["method"], []).append(r)

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    for ax, (x_key, x_label) in zip(axes, x_keys):
        for method, pts in curves.items():
            pts = sorted(pts, key=lambda r: float(r["value"]))
            xs = [float(r[x_key]) for r in pts]
            ys = [float(r[y_key]) for r in pts]
            ax.plot(xs, ys, marker="o", label=f"{method} ({pts[0]['param']})")
            for r, x, y in zip(pts, xs, ys):
                ax.annotate(f"{float(r['value']):g}", (x, y), textcoords="offset points",
                            xytext=(4, 4), fontsize=7)
        ax.set_xlabel(x_label)
        ax.set_ylabel(f"NDCG@{args.k}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    what = "exposure fairness" if x_keys[0][0].startswith("exposure_tvd") else "diversity"
    fig.suptitle(f"Accuracy vs {what} ({len(rows)} settings, {args.csv.split('/')[-1]})")
    # Temp file + rename, like every divrec output: no half-written PNG on failure.
    tmp = f"{args.png}.tmp.{os.getpid()}.png"
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, args.png)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    main()
