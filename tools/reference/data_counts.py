#!/usr/bin/python3
"""Independent reference counts for the real-data converter tests
(tests/data_shards/test_real_data.cpp), computed straight from ../shared/data with plain Python.

Rules mirrored from docs/data-format.md: users with < 3 events dropped (leave-one-out default),
catalog = items of kept users; amazon-s3rec category = least frequent attribute (frequency =
number of items in the attribute map listing it, ties -> smallest id); movielens category = first
genre flag; taobao category = the item's first category; train popularity = events before
valid_start = n - 2.
Usage: /usr/bin/python3 tools/reference/data_counts.py [shared_data_dir]
"""
import collections
import json
import os
import sys
import zlib

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../shared/data")


def summary(name, seqs, item_cat, item_attrs):
    kept = {u: s for u, s in seqs.items() if len(s) >= 3}
    items = sorted({i for s in kept.values() for i in s})
    cats = {item_cat.get(i, "(none)") for i in items}
    attrs = {a for i in items for a in item_attrs.get(i, [])}
    pop = collections.Counter(i for s in kept.values() for i in s[:-2])
    lens = sorted(len(s) for s in kept.values())
    print(f"{name}: users {len(kept)} items {len(items)} interactions {sum(lens)} "
          f"categories {len(cats)} attributes {len(attrs)} train_events {sum(pop.values())} "
          f"max_len {lens[-1]} most_popular_count {pop.most_common(1)[0][1]}")


def amazon():
    d = os.path.join(root, "amazon-beauty")
    a = json.load(open(os.path.join(d, "Beauty_item2attributes.json")))
    freq = collections.Counter(x for v in a.values() for x in set(v))
    cat = {i: str(min(set(v), key=lambda x: (freq[x], x))) for i, v in a.items() if v}
    seqs = {}
    for line in open(os.path.join(d, "Beauty.txt")):
        p = line.split()
        seqs[p[0]] = p[1:]
    summary("amazon-beauty", seqs, cat, {i: [str(x) for x in v] for i, v in a.items()})


def movielens():
    d = os.path.join(root, "movielens-100k")
    cat, attrs = {}, {}
    for line in open(os.path.join(d, "u.item"), encoding="latin-1"):
        p = line.rstrip("\n").split("|")
        flags = [g for g, f in enumerate(p[-19:]) if f == "1"]
        attrs[p[0]] = flags
        if flags:
            cat[p[0]] = flags[0]
    seqs = collections.defaultdict(list)
    rows = [l.split("\t") for l in open(os.path.join(d, "u.data"))]
    for u, i, r, t in rows:
        seqs[u].append((int(t), i))
    seqs = {u: [i for _, i in sorted(v, key=lambda x: x[0])] for u, v in seqs.items()}  # stable
    summary("movielens-100k", seqs, cat, attrs)


def taobao():
    d = os.path.join(root, "taobao-sample")
    cat, seqs = {}, collections.defaultdict(list)
    for line in open(os.path.join(d, "UserBehavior.csv")):
        u, i, c, b, t = line.strip().split(",")
        cat.setdefault(i, c)
        seqs[u].append((int(t), i))
    seqs = {u: [i for _, i in sorted(v, key=lambda x: x[0])] for u, v in seqs.items()}
    summary("taobao-sample", seqs, cat, {i: [c] for i, c in cat.items()})


if __name__ == "__main__":
    amazon()
    movielens()
    taobao()
