#!/usr/bin/env python3
"""Reference WordPiece token ids from Hugging Face `tokenizers` (tests/data_shards/test_wordpiece.cpp).

Reads texts (one per line, tabs allowed inside) from --texts, writes one line of space-separated
ids per text to stdout: [CLS] ... [SEP], truncated to --max-tokens, exactly what a BERT model is fed.
--vocab VOCAB.txt builds an uncased BertWordPieceTokenizer; --model DIR loads DIR/tokenizer.json
(e.g. all-MiniLM-L6-v2's). Runs in the venv of tools/text/setup-venv.sh.
"""
import argparse
import sys

from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", required=True)
    ap.add_argument("--vocab")
    ap.add_argument("--model")
    ap.add_argument("--max-tokens", type=int, default=256)
    a = ap.parse_args()
    if a.model:
        tok = Tokenizer.from_file(a.model + "/tokenizer.json")
    else:
        tok = BertWordPieceTokenizer(a.vocab, lowercase=True)
    tok.enable_truncation(a.max_tokens)
    tok.no_padding()
    with open(a.texts, encoding="utf-8", errors="replace", newline="\n") as f:
        for line in f:
            text = line.rstrip("\n")
            sys.stdout.write(" ".join(str(i) for i in tok.encode(text).ids) + "\n")


if __name__ == "__main__":
    main()
