"""report.html on a large store: time and peak memory of `crowdsift report`.

Builds a run store with the crowdsift schema (the migrations in crates/store/migrations) holding
N photos with the findings a full run writes (8 quality checks, 2 duplicate checks, OCR and PII:
12 rows per photo, about 5 % flagged), then times `crowdsift report` on it and reads its peak RSS.
The photos do not exist, so the report shows "no picture" cards: this measures the store side.

usage: python3 bench/report_scale.py BINARY [BINARY ...] [--photos 200000] [--out bench/results/report_scale.md]
"""
import argparse
import pathlib
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKS = ["blur", "dark", "overexposed", "low_information", "too_small", "odd_aspect", "grayscale", "exposure"]


def build(db: pathlib.Path, n: int) -> None:
    con = sqlite3.connect(db)
    for i, sql in enumerate(sorted((ROOT / "crates/store/migrations").glob("*.sql"))):
        con.executescript(sql.read_text())
        con.execute(f"PRAGMA user_version = {i + 1}")
    con.execute("INSERT INTO runs (id, command, source, version, config, status) VALUES (1, 'scan', 'bench', 'bench', '{}', 'done')")
    con.execute("INSERT INTO runs (id, command, source, version, config, status) VALUES (2, 'pii', 'bench', 'bench', '{}', 'done')")
    rng = random.Random(7)
    labels = [f"item_{k:03d}" for k in range(160)]
    images, findings = [], []
    for i in range(n):
        pid = f"obs{i:08d}"
        images.append((pid, f"/data/photos/{pid}.jpg", rng.choice(labels), "{}", f"{i:064x}", 3_000_000, "jpg", 4000, 3000, 1, "Rgb8", f"{i:064x}", i, 1, 1))
        for c in CHECKS:
            score = rng.gauss(100, 30)
            findings.append((pid, "quality", c, score, 40.0, score < 40 and rng.random() < 0.5, None, f"{c} score {score:.1f} (threshold 40)", 1))
        dup = rng.random() < 0.02
        findings.append((pid, "duplicates", "exact_duplicate", 1.0, None, dup, None, "same file bytes as obs00000001 (group of 2)" if dup else "no exact copy", 1))
        findings.append((pid, "duplicates", "near_duplicate", None, 10.0, False, None, "no near copy", 1))
        findings.append((pid, "ocr", "text", 3.0, None, False, None, "3 lines: 'Tomatoes 1 kg', '2.50', 'Market'", 2))
        pii = rng.random() < 0.01
        findings.append((pid, "pii", "pii", 1.0 if pii else 0.0, None, pii, None, "phone +2547******12" if pii else "none found", 2))
        if len(findings) > 200_000:
            flush(con, images, findings)
    flush(con, images, findings)
    con.commit()
    con.close()


def flush(con, images, findings):
    con.executemany("INSERT INTO images (id, uri, label, meta, sha256, bytes_len, format, width, height, orientation, color, pixel_sha256, phash, usable, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", images)
    con.executemany("INSERT INTO findings (image_id, stage, check_name, score, threshold, flagged, reason, detail, run_id) VALUES (?,?,?,?,?,?,?,?,?)", findings)
    images.clear()
    findings.clear()


def measure(binary: str, out: pathlib.Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run([binary, "report", str(out), "-q"], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("peak RSS of this run not measurable after a larger one: run binaries in separate processes")
    return elapsed, peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+", help="NAME=PATH of crowdsift binaries to compare")
    ap.add_argument("--photos", type=int, default=200_000)
    ap.add_argument("--out", default=str(ROOT / "bench/results/report_scale.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        t = time.perf_counter()
        build(out / "crowdsift.db", args.photos)
        print(f"store of {args.photos} photos built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        rows = []
        for spec in args.binaries:
            name, path = spec.split("=", 1)
            # Each binary in its own child of a fresh interpreter, so that peak RSS is its own.
            res = subprocess.run([sys.executable, __file__, "--measure", path, str(out)], check=True, capture_output=True, text=True)
            elapsed, rss = map(float, res.stdout.split())
            size = (out / "report.html").stat().st_size
            rows.append((name, elapsed, rss, size))
            print(f"{name}: {elapsed:.1f} s, peak RSS {rss:.0f} MiB, report {size / 1024:.0f} KiB", file=sys.stderr)
    lines = [
        "# report.html on a large store",
        "",
        f"`python3 bench/report_scale.py` — a store of {args.photos:,} photos with 12 findings each "
        f"({args.photos * 12:,} rows, about 5 % of photos flagged), `crowdsift report` on it, 2 cores. "
        "The photos do not exist (no thumbnails are decoded): this is the store side of the report.",
        "",
        "| binary | time (s) | peak RSS (MiB) | report.html (KiB) |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {e:.1f} | {r:.0f} | {s / 1024:.0f} |" for n, e, r, s in rows]
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        e, r = measure(sys.argv[2], pathlib.Path(sys.argv[3]))
        print(e, r)
    else:
        main()
