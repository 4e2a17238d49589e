#!/usr/bin/env python3
"""Embeddings end to end (read + decode + preprocess + inference), EfficientNet-Lite0, same photos,
one run: crowdsift embed vs the Python pipeline a user would write (Pillow + onnxruntime, batch
16), and vs the same with Pillow's JPEG draft mode (libjpeg DCT scaling, the best plain Python does).

    python3 bench/embed_vs_python.py    # after bench/scan_vs_cleanvision.py has built bench/work/

Sets: ifct (245 photos, mostly 307x173) and 12mp (100 JPEGs of 4000x3000: random crops, flips and
qualities of the real photographs of at least 12 MP in bench/work/hires_src). Writes
bench/results/embed_vs_python.{md,json}.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
BIN = ROOT / "target" / "release" / "crowdsift"
RESULTS = ROOT / "bench" / "results"
MODEL = "efficientnet-lite0"

PY_PIPELINE = r"""
import importlib.util, sys, json, time, tomllib
import numpy as np, onnxruntime as ort
spec = importlib.util.spec_from_file_location("ref", sys.argv[1]); ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
root, model, draft, out = sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
photos = sys.argv[6:]
m = tomllib.loads(open(root + "/models.toml").read())["model"][model]
sess = ort.InferenceSession(root + "/" + m["file"])   # default threads: all cores
res = {}
for i in range(0, len(photos), 16):
    chunk = photos[i:i + 16]
    x = np.stack([ref.preprocess(p, m["input"], draft) for p in chunk])
    (e,) = sess.run([m["output"]["embedding"]], {m["input"]["name"]: x})
    res.update({p: v.tolist() for p, v in zip(chunk, e)})
json.dump(res, open(out, "w"))
"""


def timed(cmd: list[str], ok=(0,)) -> dict:
    tfile = WORK / "time.txt"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e", "-o", str(tfile), *cmd], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode not in ok:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(int(tfile.read_text().split()[-2]) / 1024, 1)}


def cosine(a, b) -> float:
    import numpy as np
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main() -> None:
    if not BIN.exists():
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "crowdsift-cli"], cwd=ROOT, check=True)
    from PIL import Image

    sets: dict[str, list[Path]] = {"ifct": sorted((ROOT.parent / "shared/data/ifct-dev/photos").iterdir())}
    twelve = WORK / "12mp"
    if not twelve.exists() or len(list(twelve.iterdir())) < 100:
        import random
        rng = random.Random(12)
        twelve.mkdir(exist_ok=True)
        srcs = [p for p in sorted((WORK / "hires_src").glob("*.jpg")) if Image.open(p).size[0] >= 4000
                and Image.open(p).size[1] >= 3000]
        for i in range(100):
            im = Image.open(srcs[i % len(srcs)]).convert("RGB")
            x, y = rng.randint(0, im.size[0] - 4000), rng.randint(0, im.size[1] - 3000)
            im = im.crop((x, y, x + 4000, y + 3000))
            if rng.random() < 0.5:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            im.save(twelve / f"t{i:03d}.jpg", "JPEG", quality=rng.randint(85, 95))
    sets["12mp"] = sorted(twelve.iterdir())
    res: dict = {"model": MODEL, "cpus": os.cpu_count(), "sets": {}}
    for tag, photos in sets.items():
        folder = WORK / f"embed_{tag}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for p in photos:
            os.symlink(p, folder / p.name)
        mp = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in photos) / len(photos) / 1e6
        out = WORK / f"embed_out_{tag}"
        shutil.rmtree(out, ignore_errors=True)
        cs = timed([str(BIN), "embed", str(folder), "--out", str(out), "-q", "--model", MODEL, "--jobs", "2",
                    "--threads", "2"], ok=(0, 1))
        paths = [str(folder / p.name) for p in photos]
        runs = {"crowdsift": cs}
        emb = {}
        for name, draft in (("python_pillow", "0"), ("python_pillow_draft", "1")):
            jf = WORK / f"emb_{tag}_{name}.json"
            runs[name] = timed([sys.executable, "-c", PY_PIPELINE, str(ROOT / "crates/embed/reference.py"), str(ROOT),
                                MODEL, draft, str(jf), *paths])
            emb[name] = json.loads(jf.read_text())
        for r in runs.values():
            r["img_per_s"] = round(len(photos) / r["wall_s"], 1)
        con = sqlite3.connect(out / "crowdsift.db")
        ours = {u: v for u, v in con.execute(
            "SELECT i.uri, e.vector FROM images i JOIN embeddings e ON e.sha256 = i.sha256")}
        import numpy as np
        cos = {name: min(cosine(np.frombuffer(ours[p], "<f4"), e[p]) for p in paths) for name, e in emb.items()}
        res["sets"][tag] = {"photos": len(photos), "mean_mp": round(mp, 2), "runs": runs,
                            "lowest_cosine_vs": {k: round(v, 6) for k, v in cos.items()}}
        print(tag, json.dumps(res["sets"][tag]), file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed_vs_python.json").write_text(json.dumps(res, indent=1))
    L = ["# Embeddings: crowdsift embed vs Python (Pillow + onnxruntime)", "",
         f"Generated by `python3 bench/embed_vs_python.py` on a {res['cpus']}-core machine; model {MODEL}; "
         "batch 16 everywhere; crowdsift with 2 decode workers and 2 ONNX Runtime threads, Python with "
         "onnxruntime's default threads. Wall time includes start-up and model loading.", "",
         "| set | photos | mean MP | crowdsift img/s | Pillow img/s | Pillow draft img/s | vs Pillow | vs draft | crowdsift RSS | Pillow RSS | lowest cosine vs Pillow / draft |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for tag, s in res["sets"].items():
        r = s["runs"]
        c, p, d = r["crowdsift"]["img_per_s"], r["python_pillow"]["img_per_s"], r["python_pillow_draft"]["img_per_s"]
        L.append(f"| {tag} | {s['photos']} | {s['mean_mp']} | {c} | {p} | {d} | {c / p:.2f}× | {c / d:.2f}× | "
                 f"{r['crowdsift']['peak_rss_mib']} MiB | {r['python_pillow']['peak_rss_mib']} MiB | "
                 f"{s['lowest_cosine_vs']['python_pillow']} / {s['lowest_cosine_vs']['python_pillow_draft']} |")
    (RESULTS / "embed_vs_python.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
