#!/usr/bin/python3
# Bit-exact comparison of every numeric dataset in two HDF5 files (divrec export artifacts):
# same names, shapes, dtypes and bytes. Strings/attributes (paths, command lines) are ignored.
# Usage: compare_weights.py A.h5 B.h5   -> exit 0 when identical, 1 with the differences listed.
import sys

import h5py
import numpy as np


def numeric_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub":
                out[name] = obj[()]
        f.visititems(visit)
    return out


a, b = numeric_datasets(sys.argv[1]), numeric_datasets(sys.argv[2])
problems = []
for name in sorted(set(a) | set(b)):
    if name not in a or name not in b:
        problems.append(f"{name}: only in {'first' if name in a else 'second'}")
        continue
    x, y = np.asarray(a[name]), np.asarray(b[name])
    if x.dtype != y.dtype or x.shape != y.shape:
        problems.append(f"{name}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
    elif x.tobytes() != y.tobytes():
        diff = np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))) if x.size else 0
        problems.append(f"{name}: values differ (max |diff| {diff:g})")
floats = sum(1 for v in a.values() if np.asarray(v).dtype.kind == "f")
print(f"{len(a)} numeric datasets ({floats} floating point) compared")
if not any(np.asarray(v).dtype.kind == "f" for v in a.values()):
    problems.append("no floating-point dataset: nothing like weights to compare")
for p in problems:
    print("DIFF", p)
sys.exit(1 if problems else 0)
