#!/usr/bin/env python3
"""crowdsift scan vs cleanvision (PyPI) on the same images, in one run.

    python3 bench/scan_vs_cleanvision.py            # writes bench/results/scan_vs_cleanvision.{md,json}

Image sets (generated under bench/work/, which is git-ignored):
  hires500   500 JPEGs of 3-12 MP: random crops / flips / JPEG qualities of real photographs from
             Debian wallpaper packages (bench/fetch_hires.sh; CC-BY, CC0, CC-BY-SA, LGPL).
  ifct       the 245 small real photos of ../shared/data/ifct-dev (mostly 307x173).
  defects    60 of the hires500 photos, each clean + strongly blurred + dark + overexposed
             (the formulas of tests/fixtures/make_variants.py): per-defect recall and false positives.
  small      derived defects of 40 ifct photos (make_variants.py): same, on small photos.
  truncated  20 ifct photos plus one truncated JPEG: does the tool survive it?

Both tools run with 2 workers on a 2-core machine; wall time and peak RSS come from GNU time.
crowdsift is the release binary (cargo build --release -p crowdsift-cli).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
SHARED = ROOT.parent / "shared"
BIN = ROOT / "target" / "release" / "crowdsift"
RESULTS = ROOT / "bench" / "results"

spec = importlib.util.spec_from_file_location("make_variants", ROOT / "tests/fixtures/make_variants.py")
mv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mv)  # type: ignore[union-attr]

# cleanvision issue -> crowdsift check
CV_MAP = {
    "blurry": "blur", "dark": "dark", "light": "overexposed", "low_information": "low_information",
    "odd_aspect_ratio": "odd_aspect", "odd_size": "too_small", "grayscale": "grayscale",
    "exact_duplicates": "exact_duplicate", "near_duplicates": "near_duplicate",
}


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def build_sets() -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    src = WORK / "hires_src"
    if not src.exists():
        sh(["bash", str(ROOT / "bench/fetch_hires.sh"), str(src), "--include-sa", "--include-lgpl"])
    bases = sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    rng = random.Random(20261125)

    hires = WORK / "hires500"
    if not hires.exists() or len(list(hires.iterdir())) < 500:
        hires.mkdir(exist_ok=True)
        for i in range(500):
            im = Image.open(bases[i % len(bases)]).convert("RGB")
            w, h = im.size
            # A real crop every time (at most 90% of the base), so no two files are the same photo.
            target = rng.uniform(3e6, min(12e6, 0.9 * w * h))
            scale = (target / (w * h)) ** 0.5
            cw, ch = int(w * scale), int(h * scale)
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            im = im.crop((x, y, x + cw, y + ch))
            if rng.random() < 0.5:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            im.save(hires / f"h{i:03d}.jpg", "JPEG", quality=rng.randint(82, 95))

    defects = WORK / "defects"
    truth_path = WORK / "defects_truth.csv"  # outside the scanned folder
    if not truth_path.exists():
        defects.mkdir(exist_ok=True)
        rows = []
        nprng = np.random.default_rng(7)
        for i in range(60):
            name = f"h{i * 8:03d}"
            im = Image.open(hires / f"{name}.jpg").convert("RGB")
            for variant, vim, q, expect, _allow in mv.make_variants(im, nprng):
                if variant not in ("clean", "blur_s4", "dark", "overexposed"):
                    continue
                fname = f"{name}__{variant}.jpg"
                vim.save(defects / fname, "JPEG", quality=q)
                rows.append([fname, variant, ";".join(expect).replace("blurry", "blur")])
        with open(truth_path, "w", newline="") as f:
            csv.writer(f).writerows([["file", "variant", "expect"], *rows])

    small = WORK / "small"
    if not small.exists():
        sh([sys.executable, str(ROOT / "tests/fixtures/make_variants.py"), "--src",
            str(SHARED / "data/ifct-dev/photos"), "--out", str(small), "--n", "40"], stdout=subprocess.DEVNULL)
        shutil.move(str(small / "truth.csv"), str(WORK / "small_truth.csv"))

    trunc = WORK / "truncated"
    if not trunc.exists():
        trunc.mkdir()
        photos = sorted((SHARED / "data/ifct-dev/photos").iterdir())[:20]
        for p in photos:
            shutil.copy(p, trunc / p.name)
        data = photos[0].read_bytes()
        (trunc / "cut.jpg").write_bytes(data[: len(data) // 2])
    ifct = SHARED / "data/ifct-dev/photos"
    return {"hires500": hires, "ifct": ifct, "defects": defects, "small": small, "truncated": trunc}


def timed(cmd: list[str], ok=(0,), env=None) -> dict:
    """Runs cmd under GNU time; returns wall seconds, peak RSS MiB and exit code (`ok`: codes that
    mean the tool finished)."""
    tfile = WORK / "time.txt"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e", "-o", str(tfile), *cmd],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.monotonic() - t0
    rss_kb = int(tfile.read_text().split()[-2]) if tfile.exists() else 0
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(rss_kb / 1024, 1), "exit": p.returncode,
            "finished": p.returncode in ok,
            "stderr_tail": [] if p.returncode in ok else p.stderr.strip().splitlines()[-2:]}


CV_SCRIPT = r"""
import sys, json
from cleanvision import Imagelab
lab = Imagelab(data_path=sys.argv[1])
lab.find_issues(n_jobs=2, verbose=False)
df = lab.issues
flags = {}
for col in df.columns:
    if col.startswith("is_") and col.endswith("_issue"):
        name = col[3:-6]
        flags[name] = sorted(str(p) for p in df.index[df[col]])
json.dump({"n": len(df), "flags": flags}, open(sys.argv[2], "w"))
"""


def run_cleanvision(folder: Path, tag: str) -> dict:
    out = WORK / f"cv_{tag}.json"
    out.unlink(missing_ok=True)
    r = timed([sys.executable, "-c", CV_SCRIPT, str(folder), str(out)])
    r["flags"] = {}
    if out.exists():
        d = json.loads(out.read_text())
        r["images"] = d["n"]
        r["flags"] = {CV_MAP.get(k, k): [os.path.basename(p) for p in v] for k, v in d["flags"].items()}
    return r


def run_crowdsift(folder: Path, tag: str) -> dict:
    out = WORK / f"cs_{tag}"
    shutil.rmtree(out, ignore_errors=True)
    # crowdsift exits 1 when it flagged something: that is a finished run.
    r = timed([str(BIN), "scan", str(folder), "--out", str(out), "-q", "--jobs", "2"], ok=(0, 1))
    flags: dict[str, list[str]] = {}
    n = set()
    fpath = out / "findings.csv"
    if fpath.exists():
        for row in csv.DictReader(open(fpath)):
            n.add(row["id"])
            if row["flagged"] == "true":
                key = row["reason"] or row["check"]
                flags.setdefault(key, []).append(os.path.basename(row["id"]))
    r["images"] = len(n)
    r["flags"] = flags
    return r


def defect_scores(result: dict, truth: dict[str, list[str]], checks: list[str]) -> dict:
    out = {}
    for c in checks:
        flagged = set(result["flags"].get(c, []))
        pos = {f for f, e in truth.items() if c in e}
        clean = {f for f, e in truth.items() if not e}
        out[c] = {"found": len(pos & flagged), "of": len(pos), "false_pos_on_clean": len(clean & flagged),
                  "clean": len(clean)}
    return out


def main() -> None:
    if not BIN.exists():
        sh(["cargo", "build", "--release", "-q", "-p", "crowdsift-cli"], cwd=ROOT)
    sets = build_sets()
    counts = {k: sum(1 for p in v.iterdir() if p.is_file()) for k, v in sets.items()}
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "sets": counts, "runs": {}}
    import cleanvision  # noqa: E402

    res["versions"] = {"cleanvision": cleanvision.__version__,
                       "crowdsift": subprocess.run([str(BIN), "--version"], capture_output=True, text=True).stdout.strip()}
    for tag, folder in sets.items():
        print(f"== {tag} ({counts[tag]} files)", file=sys.stderr)
        cs = run_crowdsift(folder, tag)
        cv = run_cleanvision(folder, tag)
        for r in (cs, cv):
            r["img_per_s"] = round(counts[tag] / r["wall_s"], 2) if r["finished"] else None
        res["runs"][tag] = {"crowdsift": cs, "cleanvision": cv}
        print(f"   crowdsift {cs['img_per_s']} img/s {cs['peak_rss_mib']} MiB | cleanvision {cv['img_per_s']} img/s "
              f"{cv['peak_rss_mib']} MiB exit {cv['exit']}", file=sys.stderr)

    def load_truth(p: Path, col_file="file", col_exp="expect") -> dict[str, list[str]]:
        return {r[col_file]: [c.replace("blurry", "blur") for c in r[col_exp].split(";") if c]
                for r in csv.DictReader(open(p))}

    dtruth = load_truth(WORK / "defects_truth.csv")
    struth = load_truth(WORK / "small_truth.csv")
    checks_d = ["blur", "dark", "overexposed"]
    checks_s = ["blur", "dark", "overexposed", "low_information", "grayscale", "too_small", "odd_aspect",
                "near_duplicate", "exact_duplicate"]
    res["defects"] = {tool: defect_scores(res["runs"]["defects"][tool], dtruth, checks_d)
                      for tool in ("crowdsift", "cleanvision")}
    res["small_defects"] = {tool: defect_scores(res["runs"]["small"][tool], struth, checks_s)
                            for tool in ("crowdsift", "cleanvision")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    for r in res["runs"].values():
        for t in r.values():
            t["flag_counts"] = {k: len(v) for k, v in sorted(t.pop("flags").items())}
    (RESULTS / "scan_vs_cleanvision.json").write_text(json.dumps(res, indent=1))
    write_md(res)


def write_md(res: dict) -> None:
    L = ["# crowdsift scan vs cleanvision", "",
         f"Generated by `python3 bench/scan_vs_cleanvision.py` on a {res['machine']['cpus']}-core machine; "
         f"{res['versions']['crowdsift']}, cleanvision {res['versions']['cleanvision']} (default checks). "
         "Same images, same run, 2 workers each. fastdup publishes ≈31 img/s per core for comparison "
         "(not run here).", "",
         "## Throughput and memory", "",
         "| set | files | crowdsift img/s | cleanvision img/s | ratio | crowdsift peak RSS | cleanvision peak RSS |",
         "|---|---|---|---|---|---|---|"]
    for tag, r in res["runs"].items():
        cs, cv = r["crowdsift"], r["cleanvision"]
        ratio = f"{cs['img_per_s'] / cv['img_per_s']:.1f}×" if cs["img_per_s"] and cv["img_per_s"] else "—"
        cv_rate = cv["img_per_s"] or f"crashed (exit {cv['exit']})"
        L.append(f"| {tag} | {res['sets'][tag]} | {cs['img_per_s']} | {cv_rate} | {ratio} | "
                 f"{cs['peak_rss_mib']} MiB | {cv['peak_rss_mib']} MiB |")
    for title, key in (("Derived defects on 3–12 MP photos (60 photos each)", "defects"),
                       ("Derived defects on small photos (40 ifct-dev photos)", "small_defects")):
        L += ["", f"## {title}", "", "| defect | crowdsift found | cleanvision found | crowdsift flags on clean | cleanvision flags on clean |",
              "|---|---|---|---|---|"]
        for c, s in res[key]["crowdsift"].items():
            v = res[key]["cleanvision"][c]
            L.append(f"| {c} | {s['found']}/{s['of']} | {v['found']}/{v['of']} | {s['false_pos_on_clean']}/{s['clean']} | "
                     f"{v['false_pos_on_clean']}/{v['clean']} |")
    L += ["", "Sets of a few dozen small files finish in well under a second; their rates are dominated by "
          "start-up and are not throughput measurements.", "", "## Flags per check (all sets)", ""]
    for tag, r in res["runs"].items():
        L.append(f"- **{tag}** crowdsift: {r['crowdsift']['flag_counts']}; cleanvision: {r['cleanvision']['flag_counts']}"
                 + (f" (stderr: {' / '.join(r['cleanvision']['stderr_tail'])})" if r['cleanvision']['stderr_tail'] else ""))
    (RESULTS / "scan_vs_cleanvision.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
