#!/usr/bin/env python3
"""Off-topic photos in a labelled item collection (issue 26): `crowdsift audit`'s off-topic check vs the
audit's outlier check and cleanlab's OutOfDistribution, on the same collections and embeddings, in one run.

Collections: ifct-dev (245 food photos, 12 classes) plus off-topic photos from the pool of
scripts/make_off_topic.py (--seed 26: screenshots, documents, portraits, objects and landscapes,
blank walls and textures) at 0 % (clean), 2 %, 5 % and 10 % of the collection (5 / 13 / 27 photos),
"alone" (distinct photos, at most one per real source, each its own random item label) or "groups"
(whole groups of 5-20 near duplicates, one random item label per group, as one contributor
resubmitting; the last group is cut to at least 5, so a share may be overshot by up to 4); --draws
seeded draws per setting (seeds 1000 d + percent, + 500 for groups; the clean collection is one).

Each collection goes through the crowdsift binary end to end: its own folder and manifest
(obs_uid,label,uri), `crowdsift embed manifest.csv --out DIR` then `crowdsift audit DIR`, scored from
DIR/audit/labels.csv. To embed each photo once, the union of items and pool is embedded first; each
collection's folder starts from a copy of that store with every photo row deleted and only the
embedding cache kept (table `embeddings`, keyed by the SHA-256 of the photo's bytes and the model's),
so `embed` registers exactly that collection's photos with that collection's labels, reading and
hashing every file and computing nothing (checked: 0 photos embedded per collection).

Compared, on the same collections:
- crowdsift: the `off_topic` column (distance to the collection's trimmed centre above 3.5 robust
  deviations, or the ImageNet head's probability of classes no item shows above 0.3);
- the audit's outlier check as it was before the off-topic check: the per-class robust z (MAD floor
  0.02) of the binary's own `outlier_score` (mean cosine distance to the k nearest photos) over ALL
  photos, flag above 3.5 — recomputed here because the audit now leaves off-topic photos out of the
  class statistics and writes outlier_z 0 for them (checked: the same formula over the photos the
  audit kept gives its own outlier_z, to the rounding of labels.csv);
- cleanlab 2.9 OutOfDistribution (features = the same embeddings read from the collection's store,
  unit length; its defaults). Its score needs a threshold: "fixed" is the one that flags as many item
  photos on the clean collection as crowdsift does there (calibrated on the clean collection, then
  applied unchanged to every draw); "oracle 2 %" is the best threshold per collection with at most 2 %
  of the item photos (4 of 245) flagged, chosen knowing which photos are off-topic (no user can do that).

    # the pool's sources (both run here when missing; the pool itself is made once, deterministically):
    pip download --no-deps -d /tmp/whl scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2
    bash bench/fetch_hires.sh bench/work/hires_src --include-sa --include-lgpl
    pip install cleanlab==2.9.0 scikit-learn numpy
    python3 bench/off_topic.py [--bin target/release/crowdsift] [--draws 20] [--wheels /tmp/whl]

Writes bench/work/off_topic/ (pool, union store, one folder per collection) and
bench/results/off_topic.{md,json}. About 2 minutes on 2 cores with 5 draws (the pool 75 s, the union's
embed 12 s, then about 1 s per collection).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from benchlib import crowdsift_binary

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "off_topic"
ITEMS = ROOT.parent / "shared" / "data" / "ifct-dev" / "manifest.csv"
SHARES = [0.02, 0.05, 0.10]
GROUPINGS = ["alone", "groups"]
KINDS = ["screenshot", "document", "portrait", "object", "blank"]
WHEELS = ["scikit_image-0.26.0", "scikit_learn-1.9.1", "matplotlib-3.11.2"]
Z = 3.5  # the audit's outlier threshold (its default)
BUDGET = 0.02  # the issue's target: recall >= 0.9 with <= 2 % of the item photos flagged
TARGET_RECALL = 0.9
METHODS = ["crowdsift", "outlier_old", "cleanlab_fixed", "cleanlab_oracle"]
METHOD_NAMES = {"crowdsift": "crowdsift off_topic", "outlier_old": "audit outlier check (z > 3.5 in class)",
                "cleanlab_fixed": "cleanlab OOD, fixed threshold", "cleanlab_oracle": "cleanlab OOD, oracle 2 %"}


def run(binary: Path, *args: str) -> tuple[str, float]:
    t0 = time.monotonic()
    p = subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=ROOT)
    if p.returncode not in (0, 1):  # 1: something flagged
        raise SystemExit(f"crowdsift {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stdout, time.monotonic() - t0


# ------------------------------------------------------------------ data
def make_pool(wheels: Path, hires: Path) -> Path:
    pool = WORK / "pool"
    if (pool / "manifest.csv").exists():
        return pool
    missing = [w for w in WHEELS if not glob.glob(str(wheels / f"{w}-*.whl"))]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels),
                        *(w.replace("-", "==").replace("_", "-") for w in missing)], check=True)
    if not hires.exists():
        subprocess.run(["bash", str(ROOT / "bench/fetch_hires.sh"), str(hires), "--include-sa", "--include-lgpl"],
                       check=True)
    subprocess.run([sys.executable, str(ROOT / "scripts/make_off_topic.py"), "--wheels", str(wheels), "--hires",
                    str(hires), "--out", str(pool), "--seed", "26"], check=True)
    return pool


def load(pool: Path) -> tuple[list[dict], list[dict]]:
    items = [dict(id=r["obs_uid"], label=r["label"], uri=str((ITEMS.parent / r["uri"]).resolve()))
             for r in csv.DictReader(open(ITEMS))]
    photos = []
    for r in csv.DictReader(open(pool / "manifest.csv")):
        r["id"] = "OT_" + Path(r["file"]).stem
        r["uri"] = str((pool / r["file"]).resolve())
        photos.append(r)
    return items, photos


def write_manifest(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["obs_uid", "label", "uri"])
        w.writerows(rows)


def embedding_cache(binary: Path, items: list[dict], pool: list[dict]) -> tuple[Path, float]:
    """Embeds items + pool once (WORK/union); returns a copy of its store holding only the embedding cache."""
    union = WORK / "union"
    union.mkdir(parents=True, exist_ok=True)
    write_manifest(union / "manifest.csv", [(r["id"], r["label"], r["uri"]) for r in items]
                   + [(p["id"], "", p["uri"]) for p in pool])
    out, secs = run(binary, "embed", str(union / "manifest.csv"), "--out", str(union), "-q")
    print(out.strip(), flush=True)
    if "not embedded" in out:
        raise SystemExit("the union of items and pool did not embed completely")
    cache = WORK / "cache.db"
    cache.unlink(missing_ok=True)
    src = sqlite3.connect(union / "crowdsift.db")
    con = sqlite3.connect(cache)
    src.backup(con)
    src.close()
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # Every row about a photo goes; what stays is keyed by bytes (embeddings, features, ocr) and the runs.
    for t in ["findings", "stage_progress", "decisions", "ocr_photos", "pii_photos", "redactions", "images"]:
        if t in tables:
            con.execute(f"DELETE FROM {t}")
    con.commit()
    con.execute("VACUUM")
    con.close()
    return cache, secs


def n_off(share: float, n_items: int) -> int:
    return int(round(share * n_items / (1 - share)))


def seed_of(share: float, grouping: str, d: int) -> int:
    return 1000 * d + int(round(share * 100)) + (0 if grouping == "alone" else 500)


def draw(items: list[dict], pool: list[dict], share: float, grouping: str, seed: int, classes: list[str]) -> list[dict]:
    """The off-topic photos of one collection, each with its item label, kind and group."""
    rng = np.random.default_rng(seed)
    n = n_off(share, len(items))
    chosen = []
    if grouping == "alone":
        cand = [p for p in pool if p["set"] == "alone"]
        rng.shuffle(cand)
        seen = set()
        for p in cand:
            src = p["source"].split("#")[0]
            if src in seen:
                continue
            seen.add(src)
            chosen.append(dict(p, label=classes[rng.integers(len(classes))]))
            if len(chosen) == n:
                break
    else:
        groups = defaultdict(list)
        for p in pool:
            if p["set"] == "groups":
                groups[p["group"]].append(p)
        order = list(groups)
        rng.shuffle(order)
        for g in order:
            left = n - len(chosen)
            if left <= 0:
                break
            label = classes[rng.integers(len(classes))]  # one contributor, one item label per group
            chosen += [dict(p, label=label) for p in groups[g][: max(5, left)]]
    return chosen


# ------------------------------------------------------------------ one collection
def audit_collection(binary: Path, cache: Path, name: str, rows: list[tuple[str, str, str]]) -> dict:
    d = WORK / "collections" / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    shutil.copy(cache, d / "crowdsift.db")
    write_manifest(d / "manifest.csv", rows)
    out, t_embed = run(binary, "embed", str(d / "manifest.csv"), "--out", str(d), "-q")
    if "not embedded" in out:
        raise SystemExit(f"{name}: {out}")
    m = re.search(r"embedded (\d+) photos", out)
    computed = int(m.group(1)) if m else -1
    if computed != 0:
        print(f"  {name}: embed computed {computed} photos (expected 0: all cached): {out.strip()}", flush=True)
    _, t_audit = run(binary, "audit", str(d), "-q")
    labels = {r["id"]: r for r in csv.DictReader(open(d / "audit" / "labels.csv"))}
    want = {i: lab for i, lab, _ in rows}
    got = {i: r["label"] for i, r in labels.items()}
    if got != want:
        raise SystemExit(f"{name}: the audit saw other photos or labels than the collection's "
                         f"({len(set(got) ^ set(want))} ids differ)")
    con = sqlite3.connect(d / "crowdsift.db")
    models = con.execute("SELECT DISTINCT model_sha256 FROM embeddings").fetchall()
    if len(models) != 1:
        raise SystemExit(f"{name}: {len(models)} models in the store")
    vec = {i: np.frombuffer(v, "<f4") for i, v in con.execute(
        "SELECT i.id, e.vector FROM images i JOIN embeddings e ON e.sha256 = i.sha256")}
    con.close()
    ids = [i for i, _, _ in rows]
    return dict(labels=labels, X=np.stack([vec[i] for i in ids]).astype(np.float64), computed=computed,
                t_embed=t_embed, t_audit=t_audit)


def old_outlier_z(score: np.ndarray, y: list[str]) -> np.ndarray:
    """The audit's outlier z before the off-topic check: robust z of the outlier score within the photo's
    class, over all of the class's photos, MAD floor 0.02 (crates/audit/src/report.rs)."""
    y = np.array(y)
    z = np.zeros(len(score))
    for c in np.unique(y):
        r = y == c
        med = np.median(score[r])
        mad = max(1.4826 * np.median(np.abs(score[r] - med)), 0.02)
        z[r] = (score[r] - med) / mad
    return z


def cleanlab_scores(X: np.ndarray) -> np.ndarray:
    """cleanlab OutOfDistribution on unit embeddings; higher = more atypical (1 - its score)."""
    from cleanlab.outlier import OutOfDistribution

    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    with contextlib.redirect_stdout(io.StringIO()):
        s = OutOfDistribution().fit_score(features=U)
    return 1.0 - s


def oracle_flags(score: np.ndarray, off: np.ndarray, budget: float = BUDGET) -> np.ndarray:
    """Flags above the highest threshold that flags at most `budget` of the item photos."""
    items = np.sort(score[~off])[::-1]
    k = int(np.floor(budget * len(items)))
    return score > items[k]


def score_collection(res: dict, ids: list[str], y: list[str], off: np.ndarray, kinds: list[str],
                     sources: list[str], cl_thr: float | None) -> dict:
    L = res["labels"]
    col = lambda key: np.array([float(L[i][key] or 0) for i in ids])
    flag = lambda key: np.array([L[i][key] == "1" for i in ids])
    cs = flag("off_topic")
    dist, imagenet = col("off_topic_score") > Z, col("not_item_p") > 0.3
    old_z = old_outlier_z(col("outlier_score"), y)
    cl = cleanlab_scores(res["X"])
    flags = {"crowdsift": cs, "outlier_old": old_z > Z,
             "cleanlab_fixed": cl > cl_thr if cl_thr is not None else np.zeros(len(ids), bool),
             "cleanlab_oracle": oracle_flags(cl, off) if off.any() else np.zeros(len(ids), bool)}
    rec = dict(n_items=int((~off).sum()), n_off=int(off.sum()), off_kinds=dict(Counter(k for k in kinds if k != "item")),
               t_embed=round(res["t_embed"], 2), t_audit=round(res["t_audit"], 2), embed_computed=res["computed"])
    for m, f in flags.items():
        rec[m] = dict(recall=float(f[off].mean()) if off.any() else None, items=int(f[~off].sum()),
                      missed=dict(Counter(kinds[i] for i in np.flatnonzero(off & ~f))),
                      items_flagged=[f"{ids[i]} ({y[i]})" for i in np.flatnonzero(~off & f)])
    rec["crowdsift"].update(
        by_distance=int((off & dist).sum()), by_imagenet=int((off & imagenet).sum()),
        by_imagenet_only=int((off & imagenet & ~dist).sum()),
        items_by_distance=int((~off & dist).sum()), items_by_imagenet=int((~off & imagenet).sum()),
        # Flagged off-topic photos must never be label issues or outliers, nor offered another label.
        off_label_issues=int((off & cs & flag("label_issue")).sum()),
        off_outliers=int((off & cs & flag("outlier")).sum()),
        off_suggested_other=int(sum(L[ids[i]]["suggested"] != y[i] for i in np.flatnonzero(off & cs))),
        # Missed ones are audited as items: some still reach a reviewer as a label issue or an outlier.
        missed_label_issue_or_outlier=int((off & ~cs & (flag("label_issue") | flag("outlier"))).sum()),
        missed_suggested_other=int(sum(L[ids[i]]["suggested"] != y[i] for i in np.flatnonzero(off & ~cs))),
        items_outliers_new=int((~off & flag("outlier")).sum()),
        items_label_issues=int((~off & flag("label_issue")).sum()),
        items_flagged_detail=[dict(id=ids[i], label=y[i], off_topic_score=float(L[ids[i]]["off_topic_score"]),
                                   not_item_p=L[ids[i]]["not_item_p"]) for i in np.flatnonzero(~off & cs)])
    # The same z formula over the photos the audit kept (not off-topic) must give the binary's own
    # outlier_z: a check that the recomputed old check differs from the audit only by the photos included.
    kept = np.flatnonzero(~cs)
    rec["outlier_z_check"] = float(np.abs(old_outlier_z(col("outlier_score")[kept], [y[i] for i in kept])
                                          - col("outlier_z")[kept]).max())
    rec["missed_sources"] = [sources[i] for i in np.flatnonzero(off & ~cs)]
    return rec


# ------------------------------------------------------------------ report
def pct(n: float, of: int) -> str:
    return f"{100 * n / of:.2f} %"


def aggregate(runs: list[dict]) -> dict:
    out = {}
    for m in METHODS:
        rs = [r[m] for r in runs]
        rec = [x["recall"] for x in rs if x["recall"] is not None]
        items = [x["items"] for x in rs]
        missed = Counter()
        for x in rs:
            missed.update(x["missed"])
        out[m] = dict(recall_mean=float(np.mean(rec)) if rec else None, recall_min=float(np.min(rec)) if rec else None,
                      items_mean=float(np.mean(items)), items_max=int(np.max(items)), missed=dict(missed))
    c = [r["crowdsift"] for r in runs]
    for k in ["by_distance", "by_imagenet", "by_imagenet_only", "items_by_distance", "items_by_imagenet",
              "off_label_issues", "off_outliers", "off_suggested_other", "missed_label_issue_or_outlier",
              "missed_suggested_other"]:
        out["crowdsift"][k] = int(sum(x[k] for x in c))
    for k in ["items_outliers_new", "items_label_issues"]:
        out["crowdsift"][k + "_mean"] = float(np.mean([x[k] for x in c]))
    kinds = Counter()
    for r in runs:
        kinds.update(r["off_kinds"])
    out.update(draws=len(runs), n_items=runs[0]["n_items"], n_off_mean=float(np.mean([r["n_off"] for r in runs])),
               n_off_total=int(sum(r["n_off"] for r in runs)), kinds=dict(kinds))
    return out


def cell_recall(a: dict, m: str) -> str:
    return "–" if a[m]["recall_mean"] is None else f"{a[m]['recall_mean']:.2f} ({a[m]['recall_min']:.2f})"


def cell_items(a: dict, m: str) -> str:
    n = a["n_items"]
    return f"{a[m]['items_mean']:.1f} / {a[m]['items_max']} ({pct(a[m]['items_max'], n)})"


def met(a: dict, m: str) -> str:
    ok_items = a[m]["items_max"] <= BUDGET * a["n_items"]
    if a[m]["recall_mean"] is None:
        return "items ok" if ok_items else f"items {pct(a[m]['items_max'], a['n_items'])} > 2 %"
    ok = a[m]["recall_mean"] >= TARGET_RECALL and ok_items
    why = [] if ok else ([f"recall {a[m]['recall_mean']:.2f}"] if a[m]["recall_mean"] < TARGET_RECALL else []) + (
        [] if ok_items else [f"items {pct(a[m]['items_max'], a['n_items'])}"])
    return "met" if ok else "not met (" + ", ".join(why) + ")"


def write_report(results: dict) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "off_topic.json").write_text(json.dumps(results, indent=1))
    S = results["settings"]
    keys = ["clean"] + [f"{int(s * 100)}% {g}" for g in GROUPINGS for s in SHARES]
    v = results["versions"]
    clean = S["clean"]
    L = ["# Off-topic photos: crowdsift audit vs its outlier check and cleanlab OutOfDistribution", "",
         f"Generated by `{results['command']}` on a {os.cpu_count()}-core machine in "
         f"{results['seconds'] / 60:.1f} minutes; {v['crowdsift']}, cleanlab {v['cleanlab']}, scikit-learn "
         f"{v['scikit-learn']}. Collections: ifct-dev (245 food photos, 12 classes) plus off-topic photos of "
         "`scripts/make_off_topic.py --seed 26` (603 photos: screenshots, documents, portraits, objects and "
         "landscapes, blank walls and textures) at 2 / 5 / 10 % of the collection (5 / 13 / 27 photos), "
         "\"alone\" (distinct photos, each its own random item label) or \"groups\" (whole groups of 5–20 near "
         "duplicates, one random item label per group; a share may overshoot by up to 4), "
         f"{results['draws']} seeded draws per setting; clean = ifct-dev alone (one collection). Every collection "
         "is its own folder and manifest, run through `crowdsift embed` (embeddings served from the cache of one "
         "embed of the union, keyed by the photo's bytes: 0 computed per collection) and `crowdsift audit`, "
         "scored from audit/labels.csv; the baselines read the same embeddings from the same store. "
         "**crowdsift** = the `off_topic` column (distance to the collection's trimmed centre > 3.5 robust "
         "deviations, or ImageNet probability of non-item classes > 0.3). **outlier** = the audit's outlier check "
         "as it stood before the off-topic check (per-class robust z of the binary's `outlier_score` over all "
         "photos > 3.5; recomputed from labels.csv because the audit now gives off-topic photos outlier_z 0). "
         "**cleanlab fixed** = OutOfDistribution on the unit embeddings with the one threshold that flags as "
         f"many item photos on the clean collection as crowdsift does there ({clean['crowdsift']['items_max']}), "
         "applied unchanged to every draw; **cleanlab oracle** = the best threshold per collection with at most "
         "4 of the 245 item photos (2 %, floor) flagged, chosen knowing the truth — a bound, not something a user "
         "can run. Cells: recall mean (min over draws); item photos flagged mean / max (max as % of 245). "
         f"Target (issue 26): recall ≥ {TARGET_RECALL} with ≤ 2 % of the item photos flagged, in every grouping.",
         "",
         "| setting | off-topic | crowdsift recall | crowdsift items | target | outlier recall | outlier items | "
         "cleanlab fixed recall | cleanlab fixed items | cleanlab oracle 2 % recall |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for k in keys:
        a = S[k]
        L.append(f"| {k} | {a['n_off_mean']:.1f} | {cell_recall(a, 'crowdsift')} | {cell_items(a, 'crowdsift')} | "
                 f"{met(a, 'crowdsift')} | {cell_recall(a, 'outlier_old')} | {cell_items(a, 'outlier_old')} | "
                 f"{cell_recall(a, 'cleanlab_fixed')} | {cell_items(a, 'cleanlab_fixed')} | "
                 f"{cell_recall(a, 'cleanlab_oracle')} |")
    L += ["", "crowdsift in detail, summed over the draws: off-topic photos caught by distance (z > 3.5) and by the "
          "ImageNet head (p > 0.3; \"only\": not by distance); flagged off-topic photos the audit also made a "
          "label issue or outlier or offered another label (must be 0); missed off-topic photos that still reach "
          "a reviewer as a label issue or outlier (in brackets: missed ones offered another item label); missed "
          "photos per kind (missed / drawn); and per collection on average the item photos the audit flags as "
          "outliers and as label issues.", "",
          "| setting | off-topic | by distance | by ImageNet (only) | flagged: label issue / outlier / other label | "
          "missed: queued as issue or outlier (other label) | "
          + " | ".join(f"missed {k}" for k in KINDS) + " | items: outliers, label issues |",
          "|---|---|---|---|---|---|" + "---|" * len(KINDS) + "---|"]
    for k in keys:
        a = S[k]
        c = a["crowdsift"]
        miss = " | ".join(f"{c['missed'].get(kd, 0)} / {a['kinds'].get(kd, 0)}" for kd in KINDS)
        L.append(f"| {k} | {a['n_off_total']} | {c['by_distance']} | {c['by_imagenet']} ({c['by_imagenet_only']}) | "
                 f"{c['off_label_issues']} / {c['off_outliers']} / {c['off_suggested_other']} | "
                 f"{c['missed_label_issue_or_outlier']} ({c['missed_suggested_other']}) | {miss} | "
                 f"{c['items_outliers_new_mean']:.1f}, {c['items_label_issues_mean']:.1f} |")
    L += ["", "Missed per kind by every method, all contaminated settings together (missed / drawn):", "",
          "| method | " + " | ".join(KINDS) + " | all |", "|---|" + "---|" * (len(KINDS) + 1)]
    total = Counter()
    for k in keys[1:]:
        total.update(S[k]["kinds"])
    for m in METHODS:
        miss = Counter()
        for k in keys[1:]:
            miss.update(S[k][m]["missed"])
        L.append(f"| {METHOD_NAMES[m]} | " + " | ".join(f"{miss.get(kd, 0)} / {total.get(kd, 0)}" for kd in KINDS)
                 + f" | {sum(miss.values())} / {sum(total.values())} |")
    L += ["", "## Reading the results", ""] + results["notes"]
    (out / "off_topic.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


def notes(results: dict) -> list[str]:
    """The findings paragraph, from the numbers (what is met, what is not, what is missed)."""
    S = results["settings"]
    keys = [f"{int(s * 100)}% {g}" for g in GROUPINGS for s in SHARES]
    ok = [k for k in keys if met(S[k], "crowdsift") == "met"]
    bad = [k for k in keys if k not in ok]
    clean = S["clean"]["crowdsift"]
    n = S["clean"]["n_items"]
    cf = results["clean_items_flagged"]
    out = [f"- Target (mean recall ≥ {TARGET_RECALL}, and at most 2 % of the item photos flagged in every draw): "
           + (f"met in {', '.join(ok)}; " if ok else "met in no setting; ")
           + (f"not met in {', '.join(bad)}." if bad else "met everywhere.")
           + " Items flagged stay within 2 % in "
           + f"{sum(S[k]['crowdsift']['items_max'] <= BUDGET * n for k in ['clean'] + keys)} of 7 settings "
           + f"(clean: {clean['items_max']} = {pct(clean['items_max'], n)})."]
    if cf:
        out.append("- Item photos crowdsift flags on the clean collection: " + "; ".join(
            f"{x['id']} ({x['label']}, z {x['off_topic_score']:.2f}, p {x['not_item_p']})" for x in cf) + ".")
    freq = Counter()
    for r in results["runs"]:
        if r["setting"] != "clean":
            freq.update(f"{x['id']} ({x['label']})" for x in r["crowdsift"]["items_flagged_detail"])
    if freq:
        out.append("- Item photos crowdsift flags in the contaminated draws (times flagged): "
                   + ", ".join(f"{k} ×{v}" for k, v in freq.most_common(12)) + ".")
    miss = Counter()
    tot = Counter()
    for k in keys:
        miss.update(S[k]["crowdsift"]["missed"])
        tot.update(S[k]["kinds"])
    out.append("- What crowdsift misses, all settings: " + ", ".join(
        f"{kd} {miss.get(kd, 0)}/{tot.get(kd, 0)}" for kd in KINDS) + ". Misses by source (top): "
        + ", ".join(f"{s} ×{c}" for s, c in results["missed_sources"][:10]) + ".")
    worst = min(keys, key=lambda k: S[k]["crowdsift"]["recall_min"])
    out.append(f"- Worst single draw: {worst}, recall {S[worst]['crowdsift']['recall_min']:.2f}.")
    g = [f"{int(s * 100)}% groups" for s in SHARES]
    out.append("- The neighbour-based scores find almost no grouped off-topic photo — near copies are each other's "
               "nearest neighbours: recall in the groups settings " + "; ".join(
                   f"{METHOD_NAMES[m]} " + " / ".join(f"{S[k][m]['recall_mean']:.2f}" for k in g)
                   for m in ["outlier_old", "cleanlab_fixed", "cleanlab_oracle"])
               + " (crowdsift " + " / ".join(f"{S[k]['crowdsift']['recall_mean']:.2f}" for k in g) + ", at 2 / 5 / 10 %).")
    a = [f"{int(s * 100)}% alone" for s in SHARES]
    above = [k for k in a if S[k]["cleanlab_fixed"]["recall_mean"] > S[k]["crowdsift"]["recall_mean"]]
    out.append("- Photos alone, recall at 2 / 5 / 10 %: crowdsift " + " / ".join(
        f"{S[k]['crowdsift']['recall_mean']:.2f}" for k in a) + ", cleanlab fixed " + " / ".join(
        f"{S[k]['cleanlab_fixed']['recall_mean']:.2f}" for k in a) + ", cleanlab oracle " + " / ".join(
        f"{S[k]['cleanlab_oracle']['recall_mean']:.2f}" for k in a) + ": cleanlab is "
        + (f"ahead in {', '.join(above)}" if above else "behind everywhere")
        + " and falls as the off-topic photos grow numerous enough to be each other's neighbours; its fixed "
        "threshold was calibrated on this very clean collection (an advantage no user has), and flags up to "
        + pct(max(S[k]["cleanlab_fixed"]["items_max"] for k in S), S["clean"]["n_items"])
        + " of the item photos where crowdsift flags up to "
        + pct(max(S[k]["crowdsift"]["items_max"] for k in S), S["clean"]["n_items"]) + ".")
    oi = sum(S[k]["crowdsift"]["off_label_issues"] + S[k]["crowdsift"]["off_outliers"]
             + S[k]["crowdsift"]["off_suggested_other"] for k in keys)
    mq = sum(S[k]["crowdsift"]["missed_label_issue_or_outlier"] for k in keys)
    out.append(f"- Off-topic photos flagged and also made a label issue or outlier, or offered another label: {oi}. "
               f"Of the {sum(miss.values())} missed, {mq} still reach a reviewer as a label issue or outlier — "
               "with an item label suggested for a photo that is no item.")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "crowdsift"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--wheels", type=Path, default=Path("/tmp/whl"))
    ap.add_argument("--hires", type=Path, default=ROOT / "bench" / "work" / "hires_src")
    args = ap.parse_args()
    binary = crowdsift_binary()
    import cleanlab
    import sklearn

    t_start = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    pool_dir = make_pool(args.wheels, args.hires)
    items, pool = load(pool_dir)
    classes = sorted({r["label"] for r in items})
    cache, t_union = embedding_cache(binary, items, pool)

    runs = []
    cl_thr = None
    settings = [(0.0, "clean")] + [(s, g) for g in GROUPINGS for s in SHARES]
    for share, grouping in settings:
        for d in range(1 if share == 0 else args.draws):
            seed = seed_of(share, grouping, d) if share else None
            chosen = draw(items, pool, share, grouping, seed, classes) if share else []
            rows = [(r["id"], r["label"], r["uri"]) for r in items] + [(p["id"], p["label"], p["uri"]) for p in chosen]
            ids = [r[0] for r in rows]
            y = [r[1] for r in rows]
            off = np.array([False] * len(items) + [True] * len(chosen))
            kinds = ["item"] * len(items) + [p["kind"] for p in chosen]
            name = "clean" if share == 0 else f"{int(round(share * 100))}_{grouping}_{d}"
            res = audit_collection(binary, cache, name, rows)
            if share == 0:
                # cleanlab's fixed threshold: as many item photos flagged on the clean collection as crowdsift.
                k = int(sum(res["labels"][i]["off_topic"] == "1" for i in ids))
                s = np.sort(cleanlab_scores(res["X"]))[::-1]
                cl_thr = float(s[0]) if k == 0 else float((s[k - 1] + s[k]) / 2)
            sources = [""] * len(items) + [p["source"] for p in chosen]
            rec = score_collection(res, ids, y, off, kinds, sources, cl_thr)
            rec.update(setting="clean" if share == 0 else f"{int(round(share * 100))}% {grouping}", draw=d, seed=seed)
            runs.append(rec)
            c = rec["crowdsift"]
            print(f"{rec['setting']} draw {d}: {rec['n_off']} off-topic, crowdsift recall "
                  f"{c['recall'] if c['recall'] is not None else float('nan'):.2f} items {c['items']}; outlier "
                  f"{rec['outlier_old']['recall'] or 0:.2f}/{rec['outlier_old']['items']}; cleanlab fixed "
                  f"{rec['cleanlab_fixed']['recall'] or 0:.2f}/{rec['cleanlab_fixed']['items']}; "
                  f"embed {rec['t_embed']:.1f} s audit {rec['t_audit']:.1f} s", flush=True)
    clean_run = runs[0]
    z_check = max(r["outlier_z_check"] for r in runs)
    if z_check > 0.02:
        print(f"warning: the recomputed outlier z differs from the audit's by up to {z_check:.3f}", flush=True)
    settings_agg = {}
    for share, grouping in settings:
        key = "clean" if share == 0 else f"{int(round(share * 100))}% {grouping}"
        settings_agg[key] = aggregate([r for r in runs if r["setting"] == key])
    missed_sources = Counter()
    for r in runs:
        missed_sources.update(s.split("#")[0].replace("debian-wallpaper:", "") for s in r["missed_sources"])
    results = dict(
        command="python3 bench/off_topic.py" + (f" --bin {args.bin}" if args.bin != str(ROOT / "target/release/crowdsift")
                                               else "") + (f" --draws {args.draws}" if args.draws != 5 else ""),
        versions={"crowdsift": run(binary, "--version")[0].strip(), "cleanlab": cleanlab.__version__,
                  "scikit-learn": sklearn.__version__},
        draws=args.draws, seeds={k: [seed_of(s, g, d) for d in range(args.draws)] for s in SHARES for g in GROUPINGS
                                 for k in [f"{int(round(s * 100))}% {g}"]},
        cleanlab_fixed_threshold=cl_thr, union_embed_seconds=round(t_union, 1),
        audit_seconds_mean=round(float(np.mean([r["t_audit"] for r in runs])), 2),
        embed_seconds_mean=round(float(np.mean([r["t_embed"] for r in runs])), 2),
        outlier_z_recomputed_max_diff=z_check,
        clean_items_flagged=clean_run["crowdsift"]["items_flagged_detail"],
        missed_sources=missed_sources.most_common(), settings=settings_agg, runs=runs)
    results["seconds"] = round(time.monotonic() - t_start, 1)
    results["notes"] = notes(results)
    write_report(results)


if __name__ == "__main__":
    main()
