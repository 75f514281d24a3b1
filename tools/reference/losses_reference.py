#!/usr/bin/python3
"""Independent reference values for trainer/losses.cpp (tests/trainer/test_losses.cpp).

Inputs are fixed formulas reproduced exactly in the C++ test; every loss is written here as
plain loops over rows in float64 (numpy), and the calibration gradient comes from torch
autograd over a loop-based float64 implementation. Run: /usr/bin/python3 losses_reference.py
"""
import math

import numpy as np
import torch

N, D, I = 5, 4, 7


def hidden():
    return np.array([[math.sin(0.7 * n + 1.3 * d + 0.1) for d in range(D)] for n in range(N)])


def item_vecs():
    return np.array([[math.cos(0.9 * i - 0.4 * d + 0.2) for d in range(D)] for i in range(I)])


POS = [(3 * n + 1) % I for n in range(N)]              # 1 4 0 3 6
NEG1 = [(2 * n + 5) % I for n in range(N)]             # 5 0 2 4 6
NEG2 = [[(n + 3 * k + 2) % I for k in range(2)] for n in range(N)]
SHARED = [2, 4, 3, 5, 2]                               # hits: row 1 (4), row 3 (3)
LOG_Q = [math.log((i + 1) / (I * (I + 1) / 2)) for i in range(I)]  # q(i) = (i+1) / 28


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def bce(h, v, negs):
    total = 0.0
    for n in range(N):
        loss = -math.log(sigmoid(float(h[n] @ v[POS[n]])))
        for j in negs[n]:
            loss += -math.log(1.0 - sigmoid(float(h[n] @ v[j])))
        total += loss
    return total / N


def sampled_softmax(h, v):
    total = 0.0
    for n in range(N):
        pos = float(h[n] @ v[POS[n]]) - LOG_Q[POS[n]]
        terms = [pos]
        for j in SHARED:
            if j != POS[n]:
                terms.append(float(h[n] @ v[j]) - LOG_Q[j])
        m = max(terms)
        lse = m + math.log(sum(math.exp(t - m) for t in terms))
        total += lse - pos
    return total / N


def full_ce(h, v):
    total = 0.0
    for n in range(N):
        logits = [float(h[n] @ v[i]) for i in range(I)]
        m = max(logits)
        lse = m + math.log(sum(math.exp(t - m) for t in logits))
        total += lse - logits[POS[n]]
    return total / N


U, C = 3, 3
CAT = [0, 1, 2, 0, 1, 0, 2]
P = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]


def cal_logits():
    return [[2.0 * math.sin(0.5 * u + 0.8 * i) for i in range(I)] for u in range(U)]


def calibration(logits, alpha):
    """logits: torch float64 [U, I] (requires_grad); loops over users and categories."""
    total = torch.zeros((), dtype=torch.float64)
    for u in range(U):
        e = torch.exp(logits[u] - logits[u].max())
        prob = e / e.sum()
        for c in range(C):
            p = P[u][c]
            if p == 0.0:
                continue
            q = sum(prob[i] for i in range(I) if CAT[i] == c)
            q_s = (1 - alpha) * q + alpha * p
            total = total + p * (math.log(p) - torch.log(q_s))
    return total / U


def main():
    h, v = hidden(), item_vecs()
    print("bce_k1 %.12f" % bce(h, v, [[j] for j in NEG1]))
    print("bce_k2 %.12f" % bce(h, v, NEG2))
    print("sampled_softmax %.12f" % sampled_softmax(h, v))
    print("full_ce %.12f" % full_ce(h, v))
    for alpha in (0.01, 0.1):
        logits = torch.tensor(cal_logits(), dtype=torch.float64, requires_grad=True)
        loss = calibration(logits, alpha)
        loss.backward()
        print("calibration_kl alpha=%g %.12f" % (alpha, loss.item()))
        print("grad alpha=%g" % alpha)
        for row in logits.grad.tolist():
            print("  {" + ", ".join("%.12f" % g for g in row) + "},")


if __name__ == "__main__":
    main()
