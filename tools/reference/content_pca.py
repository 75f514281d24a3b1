#!/usr/bin/python3
"""Independent reference for data_shards/content_pca.cpp (tests/data_shards/test_content_import.cpp).

X[n][d] = sin(0.7 n + 1.3 d + 0.1) + 0.25 n cos(0.5 d), n < 6, d < 4 (float32 inputs, as the C++
test builds them). numpy's float64 eigendecomposition of the covariance (not an SVD, so not the
same algorithm as the C++ side): centre, eigh(cov, ddof = 1), top-k axes by eigenvalue, each axis
signed so its largest-|loading| entry is positive; projections, whitened projections (divided by
sqrt(eigenvalue)) and the explained-variance ratio. Run: /usr/bin/python3 content_pca.py
"""
import math

import numpy as np

N, D, K = 6, 4, 2
X = np.array([[math.sin(0.7 * n + 1.3 * d + 0.1) + 0.25 * n * math.cos(0.5 * d) for d in range(D)]
              for n in range(N)], dtype=np.float32).astype(np.float64)
Xc = X - X.mean(axis=0)
cov = Xc.T @ Xc / (N - 1)
w, V = np.linalg.eigh(cov)
order = np.argsort(w)[::-1]
w, V = w[order], V[:, order]
for j in range(D):
    if V[np.argmax(np.abs(V[:, j])), j] < 0:
        V[:, j] = -V[:, j]
Y = Xc @ V[:, :K]
W = Y / np.sqrt(w[:K])
np.set_printoptions(precision=9, suppress=True)
print("explained_variance", ", ".join(f"{v:.9g}" for v in w[:K]))
print("explained_ratio", f"{w[:K].sum() / w.sum():.9g}")
print("projected", ", ".join(f"{v:.9g}" for v in Y.ravel()))
print("whitened", ", ".join(f"{v:.9g}" for v in W.ravel()))
