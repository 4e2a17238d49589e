#!/usr/bin/env python3
"""Reference embeddings with Pillow + onnxruntime, preprocessing exactly as models.toml declares:
resize the shortest side to resize_short_side (bicubic; the longer side truncated as torchvision
does), centre-crop `size` (offsets rounded half-to-even, as Python's round), (px - mean) / std.

    python3 crates/embed/reference.py --model efficientnet-lite0 [--draft] OUT.json PHOTO...

--draft lets libjpeg reduce large JPEGs while decoding (Pillow's draft mode, the same DCT scaling
crowdsift uses) before the bicubic resize. Writes {path: [floats]} to OUT.json.
"""
import argparse
import json
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[2]


def preprocess(path: str, spec: dict, draft: bool) -> np.ndarray:
    im = Image.open(path)
    short = spec["resize_short_side"]
    if draft and im.format == "JPEG":
        w, h = im.size
        s = short / min(w, h)
        im.draft("RGB", (max(1, int(w * s)), max(1, int(h * s))))
    im = ImageOps.exif_transpose(im).convert("RGB")
    w, h = im.size
    nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    size = spec["size"]
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    im = im.crop((left, top, left + size, top + size))
    x = (np.asarray(im, dtype=np.float32) - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    return x.transpose(2, 0, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="efficientnet-lite0")
    ap.add_argument("--draft", action="store_true")
    ap.add_argument("out")
    ap.add_argument("photos", nargs="+")
    a = ap.parse_args()
    spec = tomllib.loads((ROOT / "models.toml").read_text())["model"][a.model]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(ROOT / spec["file"]), opts)
    out = {}
    for i in range(0, len(a.photos), 16):
        chunk = a.photos[i : i + 16]
        x = np.stack([preprocess(p, spec["input"], a.draft) for p in chunk])
        (emb,) = sess.run([spec["output"]["embedding"]], {spec["input"]["name"]: x})
        out.update({p: v.tolist() for p, v in zip(chunk, emb)})
    Path(a.out).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
