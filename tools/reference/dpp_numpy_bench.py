#!/usr/bin/python3
"""Times the fast greedy DPP MAP algorithm (Chen, Zhang & Zhou, NeurIPS 2018, Algorithm 1) in
vectorised numpy on one core, with the same shapes as bench/bench_rerank.cpp, and prints
CPU microseconds per list (process CPU time, so a busy machine does not inflate it; Google
Benchmark's CPU column is the matching C++ number) so the C++ speed-up can be reported as a ratio measured on this machine:
  kernel_given: the N x N kernel is precomputed outside the timing (the greedy alone; compare
                with BM_DppKernelGiven);
  end_to_end:   gather the candidates' 64-d vectors, normalise, one GEMM for the kernel
                (1 + cos) / 2 scaled by exp(theta * rel), then the greedy (compare with BM_Dpp).
Run: /usr/bin/python3 tools/reference/dpp_numpy_bench.py
"""
import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, like the C++ benchmark
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

ITEMS, DIM, LISTS = 20000, 64, 64


def dpp_greedy(kernel, k, eps=1e-10):
    n = kernel.shape[0]
    cis = np.zeros((k, n))
    di2s = np.copy(np.diag(kernel))
    selected = [int(np.argmax(di2s))]
    while len(selected) < k:
        t = len(selected) - 1
        j = selected[-1]
        ci = cis[:t, j]
        dj = np.sqrt(di2s[j])
        eis = (kernel[j, :] - ci @ cis[:t, :]) / dj
        cis[t, :] = eis
        di2s -= np.square(eis)
        di2s[j] = -np.inf
        j = int(np.argmax(di2s))
        if di2s[j] < eps:
            break
        selected.append(j)
    return selected


def kernel_for(vectors, items, scores, theta=1.0):
    v = vectors[items]
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    rel = (scores - scores.min()) / (scores.max() - scores.min())
    q = np.exp(theta * rel)
    return q[:, None] * (0.5 + 0.5 * (v @ v.T)) * q[None, :]


def bench(n, k, rng, vectors):
    lists = []
    for _ in range(LISTS):
        items = rng.integers(0, ITEMS, n)
        scores = 5.0 - np.cumsum(rng.exponential(1 / 50.0, n))
        lists.append((items, scores))
    kernels = [kernel_for(vectors, i, s) for i, s in lists]
    out = {}
    for name, fn in (("kernel_given", lambda l: dpp_greedy(kernels[l], k)),
                     ("end_to_end", lambda l: dpp_greedy(kernel_for(vectors, *lists[l]), k))):
        for l in range(8):  # warm-up
            fn(l)
        reps = []
        for _ in range(5):
            t0 = time.process_time()
            for l in range(LISTS):
                fn(l)
            reps.append((time.process_time() - t0) / LISTS * 1e6)
        out[name] = min(reps)
    return out


def main():
    rng = np.random.default_rng(42)
    vectors = rng.standard_normal((ITEMS, DIM))
    results = []
    for n, k in ((1000, 50), (200, 10)):
        r = bench(n, k, rng, vectors)
        results.append({"n": n, "k": k, "numpy_us_per_list_kernel_given": round(r["kernel_given"], 1),
                        "numpy_us_per_list_end_to_end": round(r["end_to_end"], 1)})
    print(json.dumps({"numpy": np.__version__, "results": results}, indent=1))


if __name__ == "__main__":
    main()
