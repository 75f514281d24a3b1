#!/usr/bin/python3
"""Independent reference values for trainer/sparse_optim.cpp lazy-adam
(tests/trainer/test_sparse_optim.cpp): Debian python3-torch's torch.optim.SparseAdam on a
7 x 5 float32 table over 4 steps, each step touching a different row set (row 4 never).

Inputs are fixed formulas reproduced exactly in the C++ test; the learning rate changes every
step like a schedule. Prints the final weight, exp_avg and exp_avg_sq as C++ initialisers
(%.9g round-trips float32). Run: /usr/bin/python3 sparse_adam_reference.py
"""
import math

import torch

ROWS, DIM = 7, 5
BETAS, EPS = (0.85, 0.99), 1e-7
# Rows given in this (unsorted) order at steps 1..4; row 4 is never touched.
TOUCHED = [[0, 2, 5], [5, 1, 3], [6, 2, 3], [0, 5, 1]]
LRS = [0.05, 0.04, 0.03, 0.02]


def initial_weight():
    return torch.tensor([[math.sin(0.3 * r + 0.7 * d + 0.1) for d in range(DIM)]
                         for r in range(ROWS)], dtype=torch.float32)


def grad_row(step, r):
    return [(1 + 0.1 * r) * math.cos(0.5 * step + 0.9 * r - 0.4 * d) for d in range(DIM)]


def main():
    weight = torch.nn.Parameter(initial_weight())
    opt = torch.optim.SparseAdam([weight], lr=LRS[0], betas=BETAS, eps=EPS)
    for step, (rows, lr) in enumerate(zip(TOUCHED, LRS), start=1):
        values = torch.tensor([grad_row(step, r) for r in rows], dtype=torch.float32)
        weight.grad = torch.sparse_coo_tensor(torch.tensor([rows]), values, (ROWS, DIM))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
    state = opt.state[weight]
    assert state["step"] == len(TOUCHED)
    for name, t in [("weight", weight.detach()), ("exp_avg", state["exp_avg"]),
                    ("exp_avg_sq", state["exp_avg_sq"])]:
        print(f"// {name}")
        for row in t.tolist():
            print("{" + ", ".join("%.9g" % x for x in row) + "},")


if __name__ == "__main__":
    main()
