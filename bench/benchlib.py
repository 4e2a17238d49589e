"""Shared by the OCR benchmarks: the edit distance they score with (the same measure as
crates/ocr/src/eval.rs: insertions, deletions and substitutions of Unicode characters) and the
crowdsift binary they run."""

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


def crowdsift_binary() -> Path:
    """`--bin PATH` from the command line, else the release build (built first)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "crowdsift"))
    binary = Path(ap.parse_args().bin)
    if binary == ROOT / "target" / "release" / "crowdsift":
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "crowdsift-cli"], cwd=ROOT, check=True)
    return binary
