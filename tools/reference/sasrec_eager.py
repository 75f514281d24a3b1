#!/usr/bin/python3
# Eager PyTorch baseline for bench/run_train_bench.sh: SASRec written the way users write it
# (pmixer/SASRec.pytorch style: every sequence left-padded to max_len, nn.MultiheadAttention with a
# causal mask, BCE with one negative per position), with divrec's block layout so both run the
# same model: item vectors = LayerNorm(id embedding), pre-LN blocks, 4*dim GELU feed-forward,
# final LayerNorm, tied output vectors; AdamW + global grad-norm clip as `divrec train`.
# Times S training steps after W warm-up steps and prints one JSON line.
#   /usr/bin/python3 tools/reference/sasrec_eager.py --data DIR --threads 2 [--batch-size 128]
#       [--max-len 50] [--dim 64] [--layers 2] [--heads 2] [--warmup 16] [--steps 32]
import argparse
import glob
import json
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True, help="divrec dataset directory (HDF5 shards)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--warmup", type=int, default=16)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--label", default="")
    return p.parse_args()


args = parse()
# OpenBLAS keeps its own pool; pin it like divrec's configure_threads does (before torch loads).
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_NUM_THREADS"] = str(args.threads)
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
np.random.seed(args.seed)


def load_train_prefixes(data_dir):
    """Per user, the train part items[0, valid_start) as dense item ids (0-based)."""
    with h5py.File(os.path.join(data_dir, "items.h5"), "r") as f:
        num_items = int(f.attrs["num_items"])
    prefixes = []
    for path in sorted(glob.glob(os.path.join(data_dir, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            offsets = f["offsets"][...]
            items = f["items"][...]
            valid_start = f["valid_start"][...]
        for k in range(len(valid_start)):
            prefixes.append(items[offsets[k]:offsets[k] + valid_start[k]])
    return prefixes, num_items


def padded_arrays(prefixes, max_len):
    """SASRec's sampler output for every trainable user: inputs p[:-1], positives p[1:], the last
    max_len of each, left-padded with 0 (ids shifted by +1 so 0 is padding, as in SASRec)."""
    rows = [p for p in prefixes if len(p) >= 2]
    seq = np.zeros((len(rows), max_len), dtype=np.int64)
    pos = np.zeros((len(rows), max_len), dtype=np.int64)
    for r, p in enumerate(rows):
        x = p[:-1][-max_len:].astype(np.int64) + 1
        y = p[1:][-max_len:].astype(np.int64) + 1
        seq[r, max_len - len(x):] = x
        pos[r, max_len - len(y):] = y
    return torch.from_numpy(seq), torch.from_numpy(pos)


class Block(nn.Module):
    def __init__(self, dim, heads, dropout):
        super().__init__()
        self.attn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(4 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, causal_mask):
        q = self.attn_norm(x)
        a, _ = self.attn(q, q, q, attn_mask=causal_mask, need_weights=False)
        x = x + self.drop(a)
        return x + self.drop(self.ffn(self.ffn_norm(x)))


class SASRec(nn.Module):
    def __init__(self, num_items, a):
        super().__init__()
        self.item_emb = nn.Embedding(num_items + 1, a.dim, padding_idx=0)
        self.item_norm = nn.LayerNorm(a.dim, eps=1e-6)
        self.pos_emb = nn.Embedding(a.max_len + 1, a.dim, padding_idx=0)
        self.emb_drop = nn.Dropout(a.dropout)
        self.blocks = nn.ModuleList(Block(a.dim, a.heads, a.dropout) for _ in range(a.layers))
        self.final_norm = nn.LayerNorm(a.dim, eps=1e-6)
        causal = torch.triu(torch.ones(a.max_len, a.max_len, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", causal)
        self.register_buffer("positions", torch.arange(1, a.max_len + 1))

    def item_vectors(self, ids):
        return self.item_norm(self.item_emb(ids))

    def log2feats(self, log_seqs):
        pad = log_seqs == 0
        x = self.item_vectors(log_seqs) + self.pos_emb(self.positions * ~pad)
        x = self.emb_drop(x) * ~pad.unsqueeze(-1)
        for block in self.blocks:
            x = block(x, self.causal_mask) * ~pad.unsqueeze(-1)
        return self.final_norm(x)

    def forward(self, log_seqs, pos_seqs, neg_seqs):
        feats = self.log2feats(log_seqs)
        pos_logits = (feats * self.item_vectors(pos_seqs)).sum(-1)
        neg_logits = (feats * self.item_vectors(neg_seqs)).sum(-1)
        return pos_logits, neg_logits


def main():
    prefixes, num_items = load_train_prefixes(args.data)
    seq, pos = padded_arrays(prefixes, args.max_len)
    model = SASRec(num_items, args)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    bce = nn.BCEWithLogitsLoss()
    model.train()
    n_users = seq.size(0)
    order = torch.randperm(n_users)
    cursor = 0

    def step():
        nonlocal cursor, order
        if cursor + args.batch_size > n_users:
            order, cursor = torch.randperm(n_users), 0
        idx = order[cursor:cursor + args.batch_size]
        cursor += args.batch_size
        log_seqs, pos_seqs = seq[idx], pos[idx]
        # One uniform negative per position, != the positive (SASRec's random_neq).
        neg = torch.randint(1, num_items, pos_seqs.shape)
        neg_seqs = neg + (neg >= pos_seqs).long()
        pos_logits, neg_logits = model(log_seqs, pos_seqs, neg_seqs)
        real = pos_seqs != 0
        loss = bce(pos_logits[real], torch.ones_like(pos_logits[real])) + \
            bce(neg_logits[real], torch.zeros_like(neg_logits[real]))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return real.sum().item()

    for _ in range(args.warmup):
        step()
    tokens = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        tokens += step()
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0  # all threads; = wall on an idle core at 1 thread
    out = {"bench": "train", "kind": "eager", "impl": "eager-pytorch", "torch": torch.__version__,
           "threads": args.threads, "batch": args.batch_size, "max_len": args.max_len,
           "dim": args.dim, "layers": args.layers, "heads": args.heads, "steps": args.steps,
           "ms_per_step": 1000 * seconds / args.steps,
           "cpu_ms_per_step": 1000 * cpu_seconds / args.steps,
           "seq_per_s": args.steps * args.batch_size / seconds,
           "real_fraction": tokens / (args.steps * args.batch_size * args.max_len),
           "parameters": sum(p.numel() for p in model.parameters())}
    if args.label:
        out["label"] = args.label
    print(json.dumps(out))
    sys.stdout.flush()


main()
