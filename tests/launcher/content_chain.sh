#!/usr/bin/env bash
# Item text and imported content end to end with the real binary: convert (no content; titles
# via --item-text) -> add-content (CSV, 10% of the items without a vector, PCA 8 + whitening) ->
# validate -> encode-items (a tiny TorchScript encoder, 2 ranks) -> train (2 ranks, feature-only
# items, so new items can be appended) -> eval ->
# export -> append an item without content or text and one whose text append-items encodes ->
# recommend for a history holding them.
# Usage: content_chain.sh PATH/TO/divrec
set -euo pipefail
DIVREC=$1
source "$(dirname "$0")/../../scripts/mpi_env.sh"
T=$(mktemp -d /tmp/divrec_content.XXXXXX)
trap 'rm -rf "$T"' EXIT
MPIRUN="mpirun -n 2 --bind-to none -x OMP_NUM_THREADS=1"

# Titles for items 0..139 (140..149 have none; item 3's is empty) -> --item-text.
/usr/bin/python3 - "$T/titles.tsv" <<'PY'
import sys
words = ["matte", "lip", "gloss", "nail", "polish", "serum", "hydrating", "cream", "palette",
         "shimmer", "rose", "vitamin", "oil", "mascara", "black", "volume"]
with open(sys.argv[1], "w") as f:
    f.write("item_id\ttitle\n")
    for i in range(140):
        t = "" if i == 3 else " ".join(words[(i * k + 3) % 16] for k in range(1, 2 + i % 6))
        f.write(f"{i}\t{t} {i % 7}ml\n" if t else f"{i}\t\n")
PY
$DIVREC shard convert --format synthetic --users 300 --items 150 --categories 6 --seed 5 \
  --content-dim 0 --cover-items --output "$T/data" --num-shards 2 \
  --item-text "$T/titles.tsv" --text-vocab-size 40 --max-text-tokens 8
# Vectors for items 15..149 (items 0..14 get the fallback), 24-d, category-free noise + id trend.
/usr/bin/python3 - "$T/vectors.csv" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(3)
with open(sys.argv[1], "w") as f:
    for i in range(15, 150):
        v = rng.normal(size=24) + 0.01 * i
        f.write(str(i) + "," + ",".join(f"{x:.6f}" for x in v) + "\n")
PY
$DIVREC shard add-content "$T/data" --vectors "$T/vectors.csv" --name test-gaussian --pca 8 \
  --whiten > "$T/add.log"
grep -q "is now version 1 (content 'test-gaussian', dim 8, fp32; 135 of 150 items" "$T/add.log"
$DIVREC shard validate "$T/data"
$DIVREC shard inspect "$T/data" --json > "$T/inspect.json"
/usr/bin/python3 - "$T/inspect.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["dataset_version"] == 1 and j["content_dim"] == 8 and j["content_missing"] == 15, j
assert 20 <= j["text_vocab"] <= 40 and j["text_pieces"] > 300 and j["text_max_tokens"] == 8, j
assert j["content_dtype"] == "fp32" and j["text_tokenizer_bytes"] > 0, j
PY
test -f "$T/data/items.h5" && test -f "$T/data/manifest-v0000.h5" && test -f "$T/data/items-v0001.h5"

# encode-items under mpirun: a tiny TorchScript encoder (Debian's python3-torch) over the titles
# with the dataset's own SentencePiece model -> version 2 (replaces the imported content), one
# vector per item with a non-empty title, stored as fp16 (--content-dtype; everything downstream
# trains, exports and serves from 16-bit content); the reference encodes each item alone
# (tools/reference/tiny_text_encoder.py).
/usr/bin/python3 - "$T/data/items-v0001.h5" "$T/spm.model" <<'PY'
import sys
import h5py
f = h5py.File(sys.argv[1], "r")
open(sys.argv[2], "wb").write(f["text_tokenizer"][:].tobytes())
PY
/usr/bin/python3 tools/reference/tiny_text_encoder.py make --vocab 40 --hidden 10 --output "$T/tiny.pt"
$MPIRUN $DIVREC encode-items --data "$T/data" --encoder "$T/tiny.pt" --text "$T/titles.tsv" \
  --tokenizer "$T/spm.model" --max-tokens 8 --batch-size 16 --no-progress --content-dtype fp16 \
  > "$T/encode.log"
grep -q "is now version 2 (content 'tiny.pt', 10 -> 10 dims; 139 of 150 items encoded" "$T/encode.log"
printf 'item_id\ttitle\n' > "$T/new_titles.tsv"
printf 'new-with-text\trose lip gloss shimmer 3ml\n' >> "$T/new_titles.tsv"
for f in titles new_titles; do
  /usr/bin/python3 tools/reference/tiny_text_encoder.py encode --encoder "$T/tiny.pt" \
    --spm "$T/spm.model" --text "$T/$f.tsv" --max-tokens 8 --output "$T/ref_$f.tsv"
done
$DIVREC shard validate "$T/data"
/usr/bin/python3 - "$T/data/items-v0002.h5" "$T/ref_titles.tsv" <<'PY'
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1], "r")
ids = [x.decode() if isinstance(x, bytes) else str(x) for x in f["raw_ids"][:]]
content, has = f["content"][:], f["has_content"][:]
assert content.dtype == np.float16, content.dtype
ref = {l.split("\t")[0]: np.array(l.split("\t")[1].split(), float) for l in open(sys.argv[2])}
assert len(ref) == 139 and int(has.sum()) == 139, (len(ref), has.sum())
for i, rid in enumerate(ids):
    if rid in ref:  # unit vectors: fp16 rounds each value by at most 2^-12
        assert np.abs(content[i] - ref[rid]).max() < 2.5e-4 + 2e-5, rid
PY

$MPIRUN $DIVREC train --data "$T/data" --output "$T/run" --epochs 2 --batch-size 16 --dim 16 \
  --layers 1 --heads 1 --max-len 12 --threads 1 --log-every 5 --use-item-id false > "$T/train.log"
grep -q "test (best.pt)" "$T/train.log"
$MPIRUN $DIVREC eval --data "$T/data" --checkpoint "$T/run" --split test --k 10 \
  --report "$T/report.json" > "$T/eval.log"
$DIVREC export --checkpoint "$T/run" --data "$T/data" --output "$T/model.h5"
# Two new items: one with neither content nor text (the fallback), one with a title that
# append-items encodes with the same encoder (its content = the reference's vector).
echo '{"id": "new-text-only", "category": "0"}' > "$T/new.jsonl"
echo '{"id": "new-with-text", "category": "1", "text": "rose lip gloss shimmer 3ml"}' >> "$T/new.jsonl"
$DIVREC append-items --model "$T/model.h5" --items "$T/new.jsonl" --output "$T/model2.h5" \
  --encoder "$T/tiny.pt" --tokenizer "$T/spm.model" --max-tokens 8
# encode-items recorded its encoder (CRC-32s by Python's zlib, pooling, token limit) in the
# dataset and the export carried it; append-items refuses another encoder or token limit
# before encoding anything, naming what differs, and writes nothing.
/usr/bin/python3 - "$T/data/items-v0002.h5" "$T/model.h5" "$T/tiny.pt" "$T/spm.model" <<'PY'
import json, sys, zlib
import h5py
crc = lambda p: "0x%08x" % zlib.crc32(open(p, "rb").read())
want = {"encoder_crc32": crc(sys.argv[3]), "tokenizer_crc32": crc(sys.argv[4]),
        "pooling": "mean", "max_tokens": 8, "pca_dim": 0}
for path, group in ((sys.argv[1], "/"), (sys.argv[2], "items")):
    got = json.loads(h5py.File(path, "r")[group].attrs["content_encoder"])
    assert got == want, (path, got, want)
PY
/usr/bin/python3 tools/reference/tiny_text_encoder.py make --vocab 40 --hidden 10 --seed 9 \
  --output "$T/other.pt"
for args in "--encoder $T/other.pt --max-tokens 8:--encoder is not the encoder" \
            "--encoder $T/tiny.pt --max-tokens 6:--pooling / --max-tokens differ"; do
  if $DIVREC append-items --model "$T/model.h5" --items "$T/new.jsonl" --output "$T/bad.h5" \
      --tokenizer "$T/spm.model" ${args%%:*} > "$T/bad.log" 2>&1; then
    echo "append-items accepted ${args%%:*}" >&2; exit 1
  fi
  grep -q -- "${args#*:}" "$T/bad.log" || { cat "$T/bad.log" >&2; exit 1; }
  test ! -e "$T/bad.h5"
done
$DIVREC recommend --model "$T/model2.h5" --history 20,21,new-text-only,new-with-text --k 5 \
  > "$T/rec.json"
/usr/bin/python3 - "$T/rec.json" "$T/model2.h5" "$T/ref_new_titles.tsv" "$T/spm.model" <<'PY'
import json, sys
import h5py
import numpy as np
import sentencepiece
r = json.load(open(sys.argv[1]))
assert len(r["items"]) == 5, r
f = h5py.File(sys.argv[2], "r")
has = f["items/has_content"][:]
assert has.shape[0] == 152 and has[150] == 0 and has[151] == 1, has[-3:]
assert has[3] == 0 and has[140:150].sum() == 0 and has[:140].sum() == 139
assert f["items"].attrs["content_model"] == "tiny.pt"
ref = np.array(open(sys.argv[3]).read().split("\t")[1].split(), float)
assert f["items/content"].dtype == np.float16  # the artifact keeps the dataset's precision
assert np.abs(f["items/content"][151] - ref).max() < 2.5e-4 + 2e-5, (f["items/content"][151], ref)
# The text-only item has an empty bag; the titled one its title's pieces by the artifact's own
# SentencePiece model (the Python binding's ids, cut to --max-text-tokens 8).
off, ids = f["items/text_offsets"][:], f["items/text_ids"][:]
assert off.shape[0] == 153 and off[-2] == off[-3], off[-3:]
sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[4])
want = sp.encode("rose lip gloss shimmer 3ml")[:8]
assert list(ids[off[-2]:off[-1]]) == want, (ids[off[-2]:off[-1]], want)
assert f["items"].attrs["text_max_tokens"] == 8
assert "item_encoder.text.weight" in f["weights"] and "item_encoder.content_missing" in f["weights"]
PY
# An id model trained for cold start (--zero-cold-ids) accepts new items too: zero id rows.
$MPIRUN $DIVREC train --data "$T/data" --output "$T/run_ids" --epochs 1 --batch-size 16 --dim 16 \
  --layers 1 --heads 1 --max-len 12 --threads 1 --log-every 50 --zero-cold-ids true \
  --item-id-dropout 0.2 > "$T/train_ids.log"
$DIVREC export --checkpoint "$T/run_ids" --data "$T/data" --output "$T/model_ids.h5"
$DIVREC append-items --model "$T/model_ids.h5" --items "$T/new.jsonl" --output "$T/model_ids2.h5" \
  --encoder "$T/tiny.pt" --tokenizer "$T/spm.model" --max-tokens 8
$DIVREC recommend --model "$T/model_ids2.h5" --history 20,new-with-text --k 5 > "$T/rec_ids.json"
/usr/bin/python3 - "$T/rec_ids.json" "$T/model_ids2.h5" <<'PY'
import json, sys
import h5py
import numpy as np
assert len(json.load(open(sys.argv[1]))["items"]) == 5
w = h5py.File(sys.argv[2], "r")["weights"]["item_encoder.item_id.weight"][:]
assert w.shape[0] == 152 and not w[150:].any() and w[:150].any(), w.shape
PY
# The reference reader recomputes the checksum over has_content and the text ids too.
/usr/bin/python3 tools/read_artifact.py "$T/model2.h5" > "$T/read.json"
/usr/bin/python3 - "$T/read.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["checksum_stored"] == r["checksum_computed"], r
assert r["config"]["content-missing"] == "true" and int(r["config"]["num-text-tokens"]) > 0, r
PY
echo "content chain OK"
