#!/usr/bin/env python3
"""OCR at phone-photo size (issue 20): crowdsift ocr vs rapidocr on 12 MP photos, same photos, one run.

The photos: scripts/make_ocr_12mp.py --seed 20 (default 50: 40 with text, 10 text-free) — ifct-dev
food photos upscaled (bicubic) to 4000x3000 / 3000x4000 with sensor-like noise, JPEG 90, carrying
typed price tags of small (font 18-30 px), medium (40-80 px) and large (100-250 px) text, shelf-edge
strips of small four-line shelf labels (name, price, unit price, product code), handwritten notes
(a name and a phone number) and no text at all; ten languages in five scripts.

- crowdsift: `crowdsift -q ocr manifest.csv --out DIR --lang <the ten>` with the photo's language in
  the manifest's `lang` column (as bench/ocr_peers.py runs it), its defaults otherwise; the lines
  read are those of DIR/ocr_lines.parquet with read = true;
- rapidocr 3.10.0 (PyPI; PP-OCRv6 small, ONNX Runtime, its defaults — it shrinks a photo to at most
  2000 px a side before detection) in a Python process of its own, one photo after the other.

Each tool runs as one child process on the machine's cores; its time is the wall time of that
process (start-up and model loading included), its peak RSS the child's ru_maxrss (os.wait4). The
tools take turns, each run three times (--repeat): the median wall time is the figure, every run's is
listed (on a shared 2-core machine one run of the same binary took 14-18 s).
Scored as bench/ocr_peers.py scores (benchlib.match_lines / score_photo: IoU >= 0.5 one-to-one, CER
without spaces with a missed line costing all its characters): photos/s, CER overall, per script and
per kind, detection recall per text height at full resolution (the font's pixel size, truth
`height_px`: < 30, 30-60, 60-120, >= 120 px), detection precision, and lines reported on the text-free
photos.

    pip install rapidocr==3.10.0 shapely pyarrow   # plus scripts/setup.sh --test (fonts)
    python3 bench/ocr_12mp.py [--bin target/release/crowdsift] [--no-build] [--photos N]
                              [--only crowdsift|rapidocr] [--seed 20] [--repeat 3]

The set is generated into bench/work/ocr_12mp/set and reused while the seed and the generators are
the same (the first N photos of a larger set are the set of N). Writes bench/results/ocr_12mp.{md,json};
with --only, the other tool's figures of the previous run on the same set are kept (and dated).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from benchlib import crowdsift_binary, match_lines, score_photo

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "ocr_12mp"
SET = WORK / "set"
RESULTS = ROOT / "bench" / "results"
GENERATORS = [ROOT / "scripts" / "make_ocr_12mp.py", ROOT / "scripts" / "make_ocr_eval.py"]
LANGS = ["eng", "fra", "spa", "por", "vie", "ind", "ben", "hin", "tha", "ara"]
BUCKETS = [("<30", 0, 30), ("30-60", 30, 60), ("60-120", 60, 120), (">=120", 120, 1e9)]
TOOLS = {"crowdsift": "crowdsift ocr (release)", "rapidocr": "rapidocr 3.10 (PP-OCRv6 small)"}


def make_set(seed: int, photos: int) -> list[dict]:
    """The first `photos` photos of the set of `seed`, generated unless a set made by the same
    generators with as many photos or more is there."""
    stamp = {"seed": seed, "generators": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in GENERATORS}}
    params = SET / "params.json"
    old = json.loads(params.read_text()) if params.is_file() else {}
    if not (old.get("photos", 0) >= photos and {k: old.get(k) for k in stamp} == stamp):
        shutil.rmtree(SET, ignore_errors=True)
        print(f"generating {photos} photos (seed {seed}) into {SET}", file=sys.stderr)
        subprocess.run([sys.executable, str(GENERATORS[0]), "--out", str(SET), "--seed", str(seed),
                        "--photos", str(photos)], check=True, stderr=subprocess.DEVNULL)
        params.write_text(json.dumps(dict(stamp, photos=photos), indent=1))
    return json.loads((SET / "truth.json").read_text())[:photos]


def run_child(cmd: list[str], **kw) -> tuple[float, int]:
    """Runs cmd; its wall time (s) and peak RSS (bytes)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {' '.join(cmd)}")
    return secs, usage.ru_maxrss * 1024


def run_crowdsift(binary: Path, truth_set) -> tuple[dict, float, int]:
    out = WORK / "crowdsift"
    shutil.rmtree(out, ignore_errors=True)
    manifest = WORK / "manifest.csv"
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["obs_uid", "label", "uri", "lang"])
        for p in truth_set:
            w.writerow([p["file"], p["kind"], str(SET / "images" / p["file"]), p["lang"]])
    secs, rss = run_child([str(binary), "-q", "ocr", str(manifest), "--out", str(out), "--lang", ",".join(LANGS)],
                          stdout=subprocess.DEVNULL)
    import pyarrow.parquet as pq

    results = defaultdict(list)
    for line in pq.read_table(out / "ocr_lines.parquet").to_pylist():
        if line["read"]:
            results[line["id"]].append({"quad": line["quad"], "text": line["text"]})
    return results, secs, rss


def measure(tools: list[str], photos: list[dict], binary: Path, repeat: int) -> dict:
    """Each tool run `repeat` times on `photos`, the tools taking turns so that a slow spell of a
    shared machine falls on both: per tool the wall time of every run, their median (the figure
    reported), the largest peak RSS, and the scores of the last run (both tools read the same way
    each time)."""
    runs, found = {t: [] for t in tools}, {}
    for r in range(repeat):
        for tool in tools:
            print(f"run {r + 1}/{repeat}: {TOOLS[tool]} on {len(photos)} photos", file=sys.stderr)
            found[tool], secs, rss = run_crowdsift(binary, photos) if tool == "crowdsift" else run_rapidocr(photos)
            runs[tool].append((secs, rss))
            print(f"{TOOLS[tool]}: {secs:.1f} s, {rss / 2**20:.0f} MiB", file=sys.stderr)
    out = {}
    for tool in tools:
        secs = statistics.median(s for s, _ in runs[tool])
        out[tool] = {"secs": secs, "runs": [round(s, 2) for s, _ in runs[tool]], "photos_per_s": len(photos) / secs,
                     "peak_rss": max(m for _, m in runs[tool]), "scores": summarise(photos, found[tool])}
    return out


def rapidocr_worker(files: list[str], out: str) -> None:
    """In the child process: rapidocr on each photo, the lines to `out` as JSON."""
    from rapidocr import RapidOCR

    engine = RapidOCR()
    results = {}
    for f in files:
        r = engine(str(SET / "images" / f))
        boxes = [] if r.boxes is None else r.boxes.tolist()
        results[f] = [{"quad": b, "text": t} for b, t in zip(boxes, r.txts or ())]
    Path(out).write_text(json.dumps(results, ensure_ascii=False))


def run_rapidocr(truth_set) -> tuple[dict, float, int]:
    # Models are fetched on first use: not part of the timed run.
    subprocess.run([sys.executable, "-c", "from rapidocr import RapidOCR; RapidOCR()"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = WORK / "rapidocr.json"
    secs, rss = run_child([sys.executable, __file__, "--worker", str(out)] + [p["file"] for p in truth_set],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text()), secs, rss


def bucket(h: float) -> str:
    return next(name for name, lo, hi in BUCKETS if lo <= h < hi)


def summarise(truth_set, results) -> dict:
    zero = lambda: {"truth": 0, "found": 0, "matched": 0, "edits": 0, "chars": 0}  # noqa: E731
    groups, free, per_photo, missed = defaultdict(zero), {"lines": 0, "photos": 0}, {}, []
    for photo in truth_set:
        found = results.get(photo["file"], [])
        t_used = match_lines(photo["lines"], found)
        s = score_photo(photo["lines"], found, t_used)
        per_photo[photo["file"]] = s
        keys = ["all", f"kind:{photo['kind']}"] + ([] if photo["text_free"] else [f"script:{photo['script']}"])
        for key in keys:
            for k, v in s.items():
                groups[key][k] += v
        if photo["text_free"]:
            free["lines"] += len(found)
            free["photos"] += bool(found)
        for i, line in enumerate(photo["lines"]):
            one = score_photo([line], [found[t_used[i]]] if i in t_used else [], {0: 0} if i in t_used else {})
            for k in ("truth", "matched", "edits", "chars"):
                groups[f"height:{bucket(line['height_px'])}"][k] += one[k]
            if i not in t_used:
                missed.append({"file": photo["file"], "kind": photo["kind"], "lang": photo["lang"],
                               "height_px": line["height_px"], "text": line["text"]})
    out = {}
    for key, g in groups.items():
        p = g["matched"] / g["found"] if g["found"] else None
        r = g["matched"] / max(g["truth"], 1)
        out[key] = {"lines": g["truth"], "found": g["found"], "matched": g["matched"],
                    "cer": g["edits"] / max(g["chars"], 1), "p": p, "r": r,
                    "f1": 2 * p * r / (p + r) if p and p + r else None}
    return {"groups": out, "text_free": free, "per_photo": per_photo, "missed": missed}


def versions(binary: Path) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if subprocess.run(["git", "status", "--porcelain", "--", "crates"], cwd=ROOT, capture_output=True, text=True).stdout:
        git += " with uncommitted changes under crates/"
    cs = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip() if binary.exists() else None
    built = datetime.fromtimestamp(binary.stat().st_mtime, timezone.utc).isoformat(timespec="seconds") if binary.exists() else None
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "nproc": os.cpu_count(), "cpu": cpu,
            "python": platform.python_version(), "crowdsift": cs, "crowdsift_binary": str(binary),
            "crowdsift_built": built, "git_head": git, "rapidocr": pkg("rapidocr"), "onnxruntime": pkg("onnxruntime")}


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def runs(r: dict) -> str:
    return ", ".join(f"{s:.1f}" for s in r.get("runs", [r["secs"]]))


def speed(cs: dict, ro: dict) -> str:
    """crowdsift's speed over rapidocr's: of the medians, and the range over the rounds."""
    ratio = cs["photos_per_s"] / ro["photos_per_s"]
    rounds = [b / a for a, b in zip(cs.get("runs", []), ro.get("runs", []))]
    spread = f" (each round: {min(rounds):.2f}-{max(rounds):.2f}x)" if len(rounds) > 1 else ""
    return f"{ratio:.2f}x rapidocr's photos/s{spread}"


def table(report: dict, truth_set, seed: int, env: dict) -> str:
    tools = list(report)
    lines_total = sum(len(p["lines"]) for p in truth_set)
    free = sum(p["text_free"] for p in truth_set)
    sizes = defaultdict(int)
    for p in truth_set:
        sizes[p["size"]] += 1
    md = ["# OCR at phone-photo size (issue 20): crowdsift vs rapidocr on 12 MP photos", "",
          f"{len(truth_set)} photos ({', '.join(f'{n} at {s}' for s, n in sorted(sizes.items()))}; {free} text-free), "
          f"{lines_total} text lines: `scripts/make_ocr_12mp.py --seed {seed}` — ifct-dev food photos upscaled "
          "(bicubic) to 12 MP with Gaussian noise (sigma 3-5), JPEG 90; typed price tags with small (font 18-30 px), "
          "medium (40-80 px) and large (100-250 px) text, shelf-edge strips of small four-line shelf labels, "
          "handwritten notes (name, phone number), in ten languages (Latin, Bengali, Devanagari, Thai, Arabic).",
          "",
          f"Machine: {env['nproc']} cores ({env['cpu']}), {env['date'][:10]}; {env['crowdsift']} "
          f"(release binary built {env['crowdsift_built']}, tree at {env['git_head']}), rapidocr {env['rapidocr']} "
          f"(onnxruntime {env['onnxruntime']}), Python {env['python']}. Each tool is one process on all cores, timed "
          "from start to exit (model loading included); the tools take turns, each run as many times as the "
          "wall-time column lists, and the median is the figure. Scoring as bench/ocr_peers.py: lines matched at quad IoU >= 0.5; "
          "CER without spaces, a missed line costing all its characters. `python3 bench/ocr_12mp.py`.", ""]
    if any(r.get("note") for r in report.values()):
        md += [f"- {TOOLS[t]}: {r['note']}" for t, r in report.items() if r.get("note")] + [""]
    md += ["| tool | photos/s | wall s (median) | wall s of each run | peak RSS MiB | CER | det P | det R | det F1 | lines on text-free photos |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for t, r in report.items():
        a, fr = r["scores"]["groups"]["all"], r["scores"]["text_free"]
        md.append(f"| {TOOLS[t]} | {r['photos_per_s']:.3f} | {r['secs']:.1f} | {runs(r)} | {r['peak_rss'] / 2**20:.0f} | "
                  f"{a['cer']:.3f} | {fmt(a['p'])} | {a['r']:.3f} | {fmt(a['f1'])} | {fr['lines']} (on {fr['photos']} of {free}) |")
    if len(tools) == 2:
        cs, ro = report["crowdsift"], report["rapidocr"]
        md += ["", f"Speed: crowdsift at {speed(cs, ro)} "
               f"(issue 20's target: >= 4x); CER {cs['scores']['groups']['all']['cer']:.3f} vs "
               f"{ro['scores']['groups']['all']['cer']:.3f} (target: at most rapidocr's)."]

    def rows(title, prefix, keys, cells):
        out = ["", title, "", "| group | lines | " + " | ".join(TOOLS[t] for t in tools) + " |",
               "|---|---:|" + "---:|" * len(tools)]
        for k in keys:
            g0 = report[tools[0]]["scores"]["groups"].get(f"{prefix}:{k}")
            if g0 is None:
                continue
            out.append(f"| {k} | {g0['lines']} | " + " | ".join(
                cells(report[t]["scores"]["groups"][f"{prefix}:{k}"]) for t in tools) + " |")
        return out

    md += rows("Detection recall (CER) per text height at full resolution (font pixel size):", "height",
               [b[0] for b in BUCKETS], lambda g: f"{g['r']:.3f} ({g['cer']:.3f})")
    md += rows("CER (detection recall) per script, photos with text:", "script",
               ["Latin", "Bengali", "Devanagari", "Thai", "Arabic"], lambda g: f"{g['cer']:.3f} ({g['r']:.3f})")
    md += rows("CER / detection recall / precision per kind of photo (text-free: lines reported):", "kind", ["tag", "shelf", "note", "free"],
               lambda g: f"{g['cer']:.3f} / {g['r']:.3f} / {fmt(g['p'])}" if g["lines"] else f"{g['found']} lines found")
    return "\n".join(md) + "\n"


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        return rapidocr_worker(sys.argv[3:], sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=list(TOOLS))
    ap.add_argument("--photos", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--bin", help="the crowdsift binary (default: the release build, built first unless --no-build)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each tool, taking turns; the median is reported")
    args = ap.parse_args()
    binary = crowdsift_binary() if args.only != "rapidocr" else Path(args.bin or ROOT / "target" / "release" / "crowdsift")
    WORK.mkdir(parents=True, exist_ok=True)
    truth_set = make_set(args.seed, args.photos)
    env = versions(binary)
    report = measure([args.only] if args.only else list(TOOLS), truth_set, binary, args.repeat)
    for r in report.values():
        r["date"] = env["date"]
    previous = RESULTS / "ocr_12mp.json"
    if args.only and previous.is_file():
        old = json.loads(previous.read_text())
        if old.get("seed") == args.seed and old.get("photos") == len(truth_set):
            for tool, r in old["tools"].items():
                if tool not in report:
                    report[tool] = dict(r, note=r.get("note") or f"figures of an earlier run ({r['date'][:16]})")
    report = {t: report[t] for t in TOOLS if t in report}
    # The same two tools on the photos both can read (Latin script) and the text-free ones: crowdsift
    # also reads Bengali, Devanagari, Thai and Arabic (with Tesseract and PP-OCRv6), which rapidocr
    # does not (its CER there is 0.8-1.0), and that reading costs time the Latin photos do not.
    latin = [p for p in truth_set if p["text_free"] or p["script"] == "Latin"]
    subset = {} if args.only else measure(list(TOOLS), latin, binary, args.repeat)
    RESULTS.mkdir(exist_ok=True)
    md = table(report, truth_set, args.seed, env)
    if subset:
        cs, ro = subset["crowdsift"], subset["rapidocr"]
        md += "\n".join([
            "", f"Latin-script photos and text-free ones only ({len(latin)} photos, "
            f"{sum(len(p['lines']) for p in latin)} lines: the scripts both tools read), each tool run again on them:", "",
            "| tool | photos/s | wall s (median) | wall s of each run | peak RSS MiB | CER | det R |",
            "|---|---:|---:|---|---:|---:|---:|",
            *[f"| {TOOLS[t]} | {r['photos_per_s']:.3f} | {r['secs']:.1f} | {runs(r)} | {r['peak_rss'] / 2**20:.0f} | "
              f"{r['scores']['groups']['all']['cer']:.3f} | {r['scores']['groups']['all']['r']:.3f} |" for t, r in subset.items()],
            "", f"Speed on these: crowdsift at {speed(cs, ro)}.", ""])
    (RESULTS / "ocr_12mp.md").write_text(md)
    previous.write_text(json.dumps({"seed": args.seed, "photos": len(truth_set), "env": env, "tools": report,
                                    "latin_and_text_free": subset},
                                   indent=1, ensure_ascii=False))
    print(md)


if __name__ == "__main__":
    main()
