#!/usr/bin/python3
"""Reads a divrec serving artifact (docs/serving.md) with h5py + numpy only.

    /usr/bin/python3 tools/read_artifact.py MODEL.h5 [--expect EXPECTED.json]

Prints one JSON object: format version, kind, model config, catalog sizes, weight names and
shapes, the stored checksum and the one recomputed here from the datasets (in the documented
order), and the whole-file checksum of the 512-byte user block header. Exits 1 when either
checksum does not match. With --expect (written by the serving test
from the checkpoint, not from the artifact), also compares every listed tensor exactly:
{"weights": {name: {"shape": [...], "values": [...]}}, "item_vectors": {"shape", "values"},
 "raw_ids": [...], "category": [...], "popularity": [...]}. Exits 2 on any difference.
It is the reference reader of the format, independent of the C++ code.
"""
import argparse
import json
import sys
import zlib

import h5py
import numpy as np


def strings(ds):
    return [s.decode("utf-8") if isinstance(s, bytes) else str(s) for s in ds[()]]


def file_checksum(path):
    """(stored, computed) CRC-32 of the bytes after the user block ("DIVRECH5" header)."""
    data = open(path, "rb").read()
    if data[:8] != b"DIVRECH5":
        return None, None
    stored_len = int.from_bytes(data[8:16], "little")
    stored = int.from_bytes(data[16:20], "little")
    computed = zlib.crc32(data[512:]) if len(data) - 512 == stored_len else -1
    return stored, computed


def checksum(f):
    """CRC-32 over every dataset, in the order docs/serving.md defines."""
    crc = zlib.crc32(np.ascontiguousarray(f["item_vectors"][()], dtype="<f4").tobytes(), 0)
    names = sorted(f["weights"].keys(), key=lambda n: n.encode("utf-8"))
    for n in names:
        crc = zlib.crc32(np.ascontiguousarray(f["weights"][n][()], dtype="<f4").tobytes(), crc)
    items = f["items"]
    for name, dtype in (("category", "<i4"), ("attr_offsets", "<i8"), ("attr_ids", "<i4"),
                        ("popularity", "<i8"), ("content", "<f4"), ("has_content", "u1"),
                        ("text_offsets", "<i8"), ("text_ids", "<i4"), ("text_tokenizer", "u1")):
        if name in items:
            # astype: HDF5 widens fp16 / bf16 content (--content-dtype) to float32 exactly.
            crc = zlib.crc32(np.ascontiguousarray(items[name].astype(dtype)[()]).tobytes(), crc)
    for name in ("raw_ids", "category_names", "attribute_names"):
        for s in strings(items[name]):
            crc = zlib.crc32(s.encode("utf-8") + b"\0", crc)
    for name in ("model_config", "objective", "defaults"):
        crc = zlib.crc32(str(f.attrs[name]).encode("utf-8") + b"\0", crc)
    if "fairness" in f:  # divrec export --fairness-policy
        for name, dtype in (("item_group", "<i4"), ("multipliers", "<f8"), ("target", "<f8")):
            crc = zlib.crc32(np.ascontiguousarray(f["fairness"][name][()], dtype=dtype).tobytes(),
                             crc)
    return crc


def parse_ini(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def compare(f, expect):
    problems = []

    def check(label, got, want):
        got = np.asarray(got)
        want = np.asarray(want, dtype=got.dtype) if got.dtype.kind != "U" else np.asarray(want)
        if got.shape != want.shape:
            problems.append(f"{label}: shape {got.shape} != expected {want.shape}")
        elif not np.array_equal(got, want):
            diff = np.argwhere(got != want)[0]
            problems.append(f"{label}: differs at {tuple(diff)}: {got[tuple(diff)]!r} != "
                            f"{want[tuple(diff)]!r}")

    for name, w in expect.get("weights", {}).items():
        if name not in f["weights"]:
            problems.append(f"weights/{name}: missing")
            continue
        check(f"weights/{name}", f["weights"][name][()],
              np.asarray(w["values"], dtype=np.float32).reshape(w["shape"]))
    if "item_vectors" in expect:
        iv = expect["item_vectors"]
        check("item_vectors", f["item_vectors"][()],
              np.asarray(iv["values"], dtype=np.float32).reshape(iv["shape"]))
    for name in ("category", "popularity", "attr_offsets", "attr_ids"):
        if name in expect:
            check(f"items/{name}", f["items"][name][()], expect[name])
    if "raw_ids" in expect:
        check("items/raw_ids", np.asarray(strings(f["items"]["raw_ids"])), expect["raw_ids"])
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("artifact")
    ap.add_argument("--expect")
    args = ap.parse_args()
    with h5py.File(args.artifact, "r") as f:
        a = f.attrs
        stored = int(a["checksum_crc32"])
        computed = checksum(f)
        out = {
            "kind": a["divrec_kind"] if isinstance(a["divrec_kind"], str) else a["divrec_kind"].decode(),
            "format_version": int(a["divrec_format_version"]),
            "objective": str(a["objective"]),
            "config": parse_ini(str(a["model_config"])),
            "defaults": json.loads(str(a["defaults"])),
            "items": int(f["items"].attrs["num_items"]),
            "item_vectors_shape": list(f["item_vectors"].shape),
            "weights": {n: list(f["weights"][n].shape) for n in f["weights"].keys()},
            "weight_names_attr": str(f["weights"].attrs["names"]).split("\n"),
            "checksum_stored": stored,
            "checksum_computed": computed,
        }
        problems = compare(f, json.load(open(args.expect))) if args.expect else []
    out["problems"] = problems
    file_stored, file_computed = file_checksum(args.artifact)
    out["file_checksum_stored"], out["file_checksum_computed"] = file_stored, file_computed
    print(json.dumps(out, indent=1, sort_keys=True))
    if stored != computed:
        print(f"checksum mismatch: stored {stored:#010x}, computed {computed:#010x}",
              file=sys.stderr)
        return 1
    if file_stored is None or file_stored != file_computed:
        print(f"file checksum mismatch: header {file_stored}, contents {file_computed}",
              file=sys.stderr)
        return 1
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
