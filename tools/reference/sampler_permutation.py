#!/usr/bin/python3
"""Independent reference for divrec::data::epoch_permutation / EpochSampler (data_shards/sampler.h).

Recipe (docs/data-format.md, "Sampler contract"):
  splitmix64: state += 0x9E3779B97F4A7C15; z = state;
              z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
              return z ^ (z >> 31)                      (all mod 2^64)
  state = seed; state = splitmix64(state) ^ epoch
  p = [0..n); for i = n-1 down to 1: j = splitmix64(state) % (i + 1); swap(p[i], p[j])
  global batch g = perm positions [g*B*W, (g+1)*B*W) mod n; rank r takes [r*B, (r+1)*B) of it.
Prints the values pasted into tests/data_shards/test_sampler.cpp.
"""
M = (1 << 64) - 1


class SplitMix:
    def __init__(self, state):
        self.state = state & M

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)


def permutation(n, seed, epoch):
    rng = SplitMix(seed)
    rng = SplitMix(rng.next() ^ epoch)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def batch(n, B, rank, world, seed, epoch, b):
    p = permutation(n, seed, epoch)
    first = b * B * world + rank * B
    return [p[(first + k) % n] for k in range(B)]


if __name__ == "__main__":
    print("splitmix64 from state 0:", [hex(x) for x in (lambda r: [r.next() for _ in range(3)])(SplitMix(0))])
    print("perm(n=10, seed=42, epoch=0):", permutation(10, 42, 0))
    print("perm(n=10, seed=42, epoch=1):", permutation(10, 42, 1))
    print("batch(n=10, B=3, rank=1, world=2, seed=7, epoch=2, b=1):", batch(10, 3, 1, 2, 7, 2, 1))
