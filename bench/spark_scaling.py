"""crowdsift on Spark: throughput with one and with two local cores, same photos, one run.

    python3 bench/spark_scaling.py [--photos 960] [--out bench/results/spark_scaling.md]

The photos: ifct-dev's 245 price-survey photos scaled to 1024 px wide and made distinct (one pixel
set per copy, so that no embedding is served from the cache), JPEG q90, in bench/work/spark/. Each
mode runs crowdsift.spark.scan and crowdsift.spark.embed (efficientnet-lite0, one ONNX Runtime
thread per task) over 8 partitions, written to Spark's `noop` sink so that every row is computed;
the single-machine command line (`crowdsift scan`/`embed` with --jobs 2) runs on the same photos
for reference. Needs release builds: the wheel from `maturin build --release -m crates/py/Cargo.toml`
installed, and `cargo build --release -p crowdsift-cli`.
"""

import argparse
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "spark"


def photos(n: int) -> pathlib.Path:
    from PIL import Image

    src = sorted((ROOT.parent / "shared" / "data" / "ifct-dev" / "photos").glob("*.jpeg"))
    out = WORK / "photos"
    manifest = WORK / "manifest.csv"
    if manifest.is_file() and len(list(out.glob("*.jpg"))) == n:
        return manifest
    shutil.rmtree(WORK, ignore_errors=True)
    out.mkdir(parents=True)
    with open(ROOT.parent / "shared" / "data" / "ifct-dev" / "manifest.csv", newline="") as f:
        labels = {pathlib.Path(r["uri"]).name: r["label"] for r in csv.DictReader(f)}
    rows = ["obs_uid,label,uri"]
    for i in range(n):
        f = src[i % len(src)]
        img = Image.open(f).convert("RGB")
        img = img.resize((1024, round(1024 * img.height / img.width)), Image.BICUBIC)
        img.putpixel((i % img.width, (i // img.width) % img.height), (i % 256, 255 - i % 256, 128))
        name = f"P{i:05d}.jpg"
        img.save(out / name, quality=90)
        label = labels.get(f.name, "unknown")
        rows.append(f'P{i:05d},"{label}",{(out / name).resolve()}')
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def spark_run(master: str, manifest: pathlib.Path) -> dict:
    import pandas as pd
    from pyspark.sql import SparkSession

    from crowdsift import spark as cs

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master(master)
        .appName(f"crowdsift-bench-{master}")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    df = spark.createDataFrame(pd.read_csv(manifest, dtype=str)).repartition(8).cache()
    n = df.count()
    res = {"master": master, "photos": n}
    for name, run in [("scan", lambda: cs.scan(df)), ("embed", lambda: cs.embed(df))]:
        t = time.perf_counter()
        run().write.format("noop").mode("overwrite").save()
        res[name] = time.perf_counter() - t
    spark.stop()
    return res


def cli_run(manifest: pathlib.Path, binary: pathlib.Path) -> dict:
    res = {"master": "crowdsift CLI, --jobs 2 (no Spark)"}
    with tempfile.TemporaryDirectory() as out:
        for name in ("scan", "embed"):
            t = time.perf_counter()
            subprocess.run([str(binary), name, str(manifest), "--out", out, "--jobs", "2", "-q"], check=False, capture_output=True)
            res[name] = time.perf_counter() - t
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=960)
    ap.add_argument("--out", default=str(ROOT / "bench/results/spark_scaling.md"))
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "crowdsift"))
    args = ap.parse_args()
    manifest = photos(args.photos)
    # Each mode in a fresh interpreter: a stopped SparkContext keeps its Python workers' caches.
    results = []
    for master in ("local[1]", "local[2]"):
        r = subprocess.run([sys.executable, __file__, "--spark", master, str(manifest)], check=True, capture_output=True, text=True)
        results.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(results[-1], file=sys.stderr)
    results.append(cli_run(manifest, pathlib.Path(args.binary)))
    print(results[-1], file=sys.stderr)
    n = args.photos
    one, two = results[0], results[1]
    lines = [
        "# crowdsift on Spark: one and two local cores",
        "",
        f"`python3 bench/spark_scaling.py` — {n} distinct JPEGs (ifct-dev photos scaled to 1024 px wide), 8 partitions, "
        "PySpark local mode on this 2-core machine, written to the `noop` sink; embed with efficientnet-lite0, one ONNX "
        "Runtime thread per task. Times include Spark's scheduling and the Python workers.",
        "",
        "| run | scan (s) | scan (photos/s) | embed (s) | embed (photos/s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['master']} | {r['scan']:.1f} | {n / r['scan']:.1f} | {r['embed']:.1f} | {n / r['embed']:.1f} |")
    lines += [
        "",
        f"Scaling local[1] → local[2]: scan {one['scan'] / two['scan']:.2f}×, embed {one['embed'] / two['embed']:.2f}× "
        "(the seed reported 1.76× from 8 to 16 nodes).",
    ]
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n")
    pathlib.Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--spark":
        print(json.dumps(spark_run(sys.argv[2], pathlib.Path(sys.argv[3]))))
    else:
        main()
