#!/usr/bin/env python3
"""Builds the crowdsift-models wheel (crates/py/models-wheel) from the repository's models.toml and
models/: the package skeleton and the model files are copied into a temporary folder and handed to
`pip wheel` (setuptools). Writes target/wheels/models/crowdsift_models-<version>-py3-none-any.whl.

Usage: python3 scripts/models_wheel.py [--out DIR]
"""

import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    match = re.search(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', text, re.M | re.S)
    if not match:
        sys.exit("models_wheel: no [workspace.package] version in Cargo.toml")
    return match.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "target" / "wheels" / "models")
    args = ap.parse_args()
    version = workspace_version()
    skeleton = ROOT / "crates" / "py" / "models-wheel"
    init = (skeleton / "crowdsift_models" / "__init__.py").read_text()
    if f'__version__ = "{version}"' not in init:
        sys.exit(f"models_wheel: crowdsift_models/__init__.py must say __version__ = \"{version}\" (Cargo.toml)")
    with tempfile.TemporaryDirectory(prefix="crowdsift-models-") as tmp:
        stage = pathlib.Path(tmp) / "pkg"
        shutil.copytree(skeleton, stage)
        package = stage / "crowdsift_models"
        shutil.copy2(ROOT / "models.toml", package / "models.toml")
        # The paths in models.toml are relative to its folder: models/... beside it.
        shutil.copytree(ROOT / "models", package / "models", copy_function=shutil.copy2)
        args.out.mkdir(parents=True, exist_ok=True)
        for old in args.out.glob("crowdsift_models-*.whl"):
            old.unlink()
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--wheel-dir", str(args.out), str(stage)],
            check=True,
        )
    wheel = next(args.out.glob("crowdsift_models-*.whl"))
    print(f"wrote {wheel} ({wheel.stat().st_size / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
