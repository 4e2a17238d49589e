#!/usr/bin/env python3
"""OCR in ten languages: crowdsift ocr vs Tesseract's CLI vs rapidocr, same photos, one run.

The photos are the generated evaluation set (scripts/make_ocr_eval.py --seed 7: 120 food photos with
price labels in English, French, Spanish, Portuguese, Vietnamese, Indonesian, Bengali, Hindi, Thai
and Arabic; typed and handwriting-style; rotated, perspective, blur, small, faint, turned). Every
tool gets each photo's language the way a user would give it:

- crowdsift: `crowdsift ocr manifest.csv` with a `lang` column (and `--lang` listing all ten);
  also a run with `--lang auto` and no column (no hint at all);
- Tesseract 5.3 CLI (Debian): `tesseract photo stdout -l <lang>+eng --psm 3 tsv` (text lines from
  its TSV: the line boxes of level 4 and the words of level 5), one process per photo, two at a time
  (Tesseract's own threads off: OMP_THREAD_LIMIT=1, as its docs advise for parallel runs);
- rapidocr 3.10.0 (PyPI; PP-OCRv6 small, ONNX Runtime, its defaults): no language setting exists.

Scores as crowdsift's tests do (crates/ocr/src/eval.rs): a found line matches a true line at quad
IoU >= 0.5, one-to-one, best pairs first; CER = edits / characters of the true lines with spaces
removed, a missed line costing all its characters; detection precision/recall/F1 over lines. Time:
the wall time of the whole run including model loading, photos/s.

    pip install rapidocr==3.10.0 shapely   # plus scripts/setup.sh --test
    python3 bench/ocr_peers.py [--bin target/release/crowdsift]

Writes bench/results/ocr_peers.{md,json}.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchlib import crowdsift_binary, score_photo

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "ocr_peers"
LANGS = ["eng", "fra", "spa", "por", "vie", "ind", "ben", "hin", "tha", "ara"]


def summarise(truth_set, results) -> dict:
    groups = defaultdict(lambda: {"truth": 0, "found": 0, "matched": 0, "edits": 0, "chars": 0})
    for photo in truth_set:
        s = score_photo(photo["lines"], results.get(photo["file"], []))
        for key in ("all", f"script:{photo['script']}", f"lang:{photo['lang']}", f"style:{photo['style']}",
                    f"condition:{photo['condition']}"):
            for k, v in s.items():
                groups[key][k] += v
    out = {}
    for key, g in groups.items():
        p = g["matched"] / max(g["found"], 1)
        r = g["matched"] / max(g["truth"], 1)
        out[key] = {"lines": g["truth"], "cer": g["edits"] / max(g["chars"], 1), "p": p, "r": r,
                    "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return out


def run_crowdsift(binary: Path, images: Path, truth_set, hinted: bool) -> tuple[dict, float]:
    out = WORK / ("cs_hint" if hinted else "cs_auto")
    shutil.rmtree(out, ignore_errors=True)
    manifest = WORK / ("manifest_hint.csv" if hinted else "manifest_auto.csv")
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["obs_uid", "label", "uri"] + (["lang"] if hinted else []))
        for p in truth_set:
            w.writerow([p["file"], p["lang"], str(images / p["file"])] + ([p["lang"]] if hinted else []))
    cmd = [str(binary), "-q", "ocr", str(manifest), "--out", str(out), "--lang", ",".join(LANGS) if hinted else "auto"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    secs = time.perf_counter() - t0
    import pyarrow.parquet as pq

    results = defaultdict(list)
    for line in pq.read_table(out / "ocr_lines.parquet").to_pylist():
        if line["read"]:
            results[line["id"]].append({"quad": line["quad"], "text": line["text"]})
    return results, secs


def tesseract_lines(tsv: str) -> list[dict]:
    lines, words = {}, defaultdict(list)
    for row in list(csv.reader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))[1:]:
        if len(row) < 12:
            continue
        level, key = int(row[0]), tuple(row[1:5])
        left, top, width, height = map(int, row[6:10])
        if level == 4:
            lines[key] = [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]
        elif level == 5 and row[11].strip() and float(row[10]) >= 0:
            words[key].append(row[11])
    return [{"quad": q, "text": " ".join(words[k])} for k, q in lines.items() if words.get(k)]


def run_tesseract(images: Path, truth_set) -> tuple[dict, float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(p):
        lang = p["lang"] if p["lang"] == "eng" else f"{p['lang']}+eng"
        r = subprocess.run(["tesseract", str(images / p["file"]), "stdout", "-l", lang, "--psm", "3", "tsv"],
                           capture_output=True, text=True, env=env)
        return p["file"], tesseract_lines(r.stdout)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        results = dict(ex.map(one, truth_set))
    return results, time.perf_counter() - t0


def run_rapidocr(images: Path, truth_set) -> tuple[dict, float]:
    t0 = time.perf_counter()
    from rapidocr import RapidOCR

    engine = RapidOCR()
    results = {}
    for p in truth_set:
        r = engine(str(images / p["file"]))
        boxes = [] if r.boxes is None else r.boxes.tolist()
        results[p["file"]] = [{"quad": b, "text": t} for b, t in zip(boxes, r.txts or ())]
    return results, time.perf_counter() - t0


def main() -> None:
    binary = crowdsift_binary()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_ocr_eval.py"), "--out", str(WORK / "set"),
                    "--seed", "7"], check=True)
    images = WORK / "set" / "images"
    truth_set = json.loads((WORK / "set" / "truth.json").read_text())
    tools = {
        "crowdsift (lang hint per photo)": lambda: run_crowdsift(binary, images, truth_set, True),
        "crowdsift (--lang auto, no hint)": lambda: run_crowdsift(binary, images, truth_set, False),
        "tesseract CLI (lang+eng per photo)": lambda: run_tesseract(images, truth_set),
        "rapidocr 3.10 (PP-OCRv6 small)": lambda: run_rapidocr(images, truth_set),
    }
    report = {}
    for name, run in tools.items():
        results, secs = run()
        report[name] = {"secs": secs, "photos_per_s": len(truth_set) / secs, "scores": summarise(truth_set, results)}
        print(f"{name}: {secs:.1f} s, CER {report[name]['scores']['all']['cer']:.3f}", file=sys.stderr)
    tver = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    md = ["# OCR: crowdsift vs Tesseract CLI vs rapidocr, generated ten-language set", "",
          f"{len(truth_set)} photos, {sum(len(p['lines']) for p in truth_set)} lines (scripts/make_ocr_eval.py "
          f"--seed 7); {os.cpu_count()} cores; {tver}. See bench/ocr_peers.py for how each tool was run "
          "and scored (IoU >= 0.5; CER without spaces, a missed line costs all its characters).", "",
          "| tool | photos/s | CER | det P | det R | det F1 |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in report.items():
        a = r["scores"]["all"]
        md.append(f"| {name} | {r['photos_per_s']:.2f} | {a['cer']:.3f} | {a['p']:.3f} | {a['r']:.3f} | {a['f1']:.3f} |")
    keys = sorted(k for k in next(iter(report.values()))["scores"] if k != "all")
    md += ["", "CER (detection F1) per group:", "", "| group | lines | " + " | ".join(report) + " |",
           "|---|---:|" + "---:|" * len(report)]
    for k in keys:
        cells = []
        for r in report.values():
            s = r["scores"].get(k)
            cells.append(f"{s['cer']:.3f} ({s['f1']:.2f})" if s else "-")
        lines = next(iter(report.values()))["scores"][k]["lines"]
        md.append(f"| {k} | {lines} | " + " | ".join(cells) + " |")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "ocr_peers.md").write_text("\n".join(md) + "\n")
    (out / "ocr_peers.json").write_text(json.dumps(report, indent=1))
    print("\n".join(md))


if __name__ == "__main__":
    main()
