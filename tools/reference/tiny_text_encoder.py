#!/usr/bin/env python3
"""Independent reference for `divrec encode-items` (tests/trainer/test_encode_items.cpp).

Run with Debian's python3 (torch 1.13 and sentencepiece), never divrec's code:

  make   --output ENC.pt --vocab V --hidden H --seed S
         a tiny text encoder (embeddings + one masked self-attention layer), scripted to
         TorchScript: forward(input_ids int64 [B, T], attention_mask int64 [B, T]) -> a tuple whose
         first element is float32 [B, T, H] (the layout of Hugging Face's torchscript=True output).
  encode --encoder ENC.pt (--spm MODEL --text TSV | --token-ids TSV) --max-tokens N
         --pooling mean|cls --output OUT.tsv [--ids-output IDS.tsv]
         encodes every item ALONE (no padding, so no masking involved), pools over its tokens
         (mean) or takes the first (cls), L2-normalises, and writes `raw id <TAB> v1 ... vH` for
         each item with a non-empty text. --ids-output writes the SentencePiece ids used, in the
         --token-ids format (header, `id <TAB> ids`).
"""
import argparse
import math

import torch


class TinyEncoder(torch.nn.Module):
    def __init__(self, vocab: int, hidden: int, max_len: int = 512):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, hidden)
        self.pos = torch.nn.Embedding(max_len, hidden)
        self.qkv = torch.nn.Linear(hidden, 3 * hidden)
        self.out = torch.nn.Linear(hidden, hidden)
        self.scale = 1.0 / math.sqrt(hidden)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        t = input_ids.size(1)
        pos = torch.arange(t, device=input_ids.device)
        h = self.emb(input_ids) + self.pos(pos).unsqueeze(0)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        s = torch.matmul(q, k.transpose(1, 2)) * self.scale
        s = s.masked_fill(attention_mask.unsqueeze(1) == 0, -1e9)
        h = h + torch.matmul(torch.softmax(s, dim=-1), v)
        return (torch.tanh(self.out(h)),)


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            fields = line.split("\t")
            rows.append((fields[0].strip(), fields[-1].strip()))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["make", "encode"])
    ap.add_argument("--output", required=True)
    ap.add_argument("--vocab", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder")
    ap.add_argument("--spm")
    ap.add_argument("--text")
    ap.add_argument("--token-ids")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    ap.add_argument("--ids-output")
    a = ap.parse_args()

    if a.mode == "make":
        torch.manual_seed(a.seed)
        torch.jit.script(TinyEncoder(a.vocab, a.hidden).eval()).save(a.output)
        return

    enc = torch.jit.load(a.encoder).eval()
    items = []  # (raw id, token ids)
    if a.spm:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=a.spm)
        for rid, text in read_tsv(a.text):
            if text:
                items.append((rid, sp.encode(text)[: a.max_tokens]))
    else:
        for rid, ids in read_tsv(a.token_ids):
            if ids:
                items.append((rid, [int(x) for x in ids.split()][: a.max_tokens]))
    if a.ids_output:
        with open(a.ids_output, "w", encoding="utf-8") as f:
            f.write("item_id\ttoken_ids\n")
            for rid, ids in items:
                f.write(rid + "\t" + " ".join(str(i) for i in ids) + "\n")
    with torch.no_grad(), open(a.output, "w", encoding="utf-8") as f:
        for rid, ids in items:
            x = torch.tensor([ids], dtype=torch.long)
            h = enc(x, torch.ones_like(x))[0][0].double()
            v = h.mean(0) if a.pooling == "mean" else h[0]
            v = v / v.norm()
            f.write(rid + "\t" + " ".join(f"{float(y):.9g}" for y in v) + "\n")


if __name__ == "__main__":
    main()
