#!/usr/bin/env python3
"""Builds the models wheels from the repository's models.toml and models/: one per job, each with
its own models.toml (the sections of that job) and the files it names, each under the 100 MB
file limit of package registries —

- crowdsift-models-backbones: [model.*] (EfficientNet-Lite0, MobileNetV2, their .pth weights);
- crowdsift-models-ocr: [ocr.*], [style.*] and [digits.*] (PP-OCR v5 / v6 small, the handwriting
  classifier, the Arabic-Indic digit reader);
- crowdsift-models-faces: [face.*] (CenterFace);

and crowdsift-models, which holds no file and depends on the three (`pip install
crowdsift[models]`). Each is installable alone: `import crowdsift` points the engine at every one
installed (CROWDSIFT_MODELS, separated like PATH). The package skeletons are written into a
temporary folder and handed to `pip wheel` (setuptools). Writes target/wheels/models/*.whl.

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
# job -> (the models.toml sections it ships, what it is for)
JOBS = {
    "backbones": (("model",), "the backbones crowdsift embeds, trains and audits with (EfficientNet-Lite0, MobileNetV2)"),
    "ocr": (("ocr", "style", "digits"),
            "the text models crowdsift reads photos with (PP-OCR v5 mobile, v6 small; handwriting classifier; Arabic-Indic digit reader)"),
    "faces": (("face",), "the face detector crowdsift finds faces with (CenterFace)"),
}
LICENSE = "Apache-2.0 AND BSD-3-Clause AND MIT"
LIMIT = 100 * 10**6


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    match = re.search(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', text, re.M | re.S)
    if not match:
        sys.exit("models_wheel: no [workspace.package] version in Cargo.toml")
    return match.group(1)


def split_toml(text: str) -> dict:
    """models.toml cut into its top-level sections (`model`, `ocr`, `face`, `style`, `digits`), each with the
    comments written just above its tables, plus the file's opening comment (key `""`)."""
    parts = {"": []}
    current, pending = "", []
    for line in text.splitlines(keepends=True):
        header = re.match(r"\[([a-z_]+)\.", line)
        if header:
            if current == "":
                # The file's opening comment ends at the last blank line before the first table.
                cut = max((i + 1 for i, p in enumerate(pending) if not p.strip()), default=0)
                parts[""].extend(pending[:cut])
                pending = pending[cut:]
            current = header.group(1)
            parts.setdefault(current, []).extend(pending)
            pending = []
            parts[current].append(line)
        elif line.startswith("#") or not line.strip():
            pending.append(line)
        else:
            parts[current].extend(pending)
            pending = []
            parts[current].append(line)
    parts[current].extend(pending)
    return {k: "".join(v) for k, v in parts.items()}


def files_of(toml_text: str) -> list:
    """Every file a models.toml names (`file = "..."` and `weights = "..."`)."""
    return sorted(set(re.findall(r'(?:file|weights) = "([^"]+)"', toml_text)))


def pyproject(name: str, package: str, version: str, description: str, deps=(), data=True) -> str:
    lines = [
        "[build-system]", 'requires = ["setuptools>=70.1"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", f'name = "{name}"', f'version = "{version}"', f'description = "{description}"',
        'requires-python = ">=3.9"', f'license = {{ text = "{LICENSE}" }}',
        f"dependencies = [{', '.join(repr(d).replace(chr(39), chr(34)) for d in deps)}]", "",
        "[tool.setuptools]", f'packages = ["{package}"]', "",
    ]
    if data:
        lines += ["[tool.setuptools.package-data]", f'{package} = ["models.toml", "models/**/*"]', ""]
    return "\n".join(lines)


INIT = '''"""{doc} ``import crowdsift`` points the engine at it (``CROWDSIFT_MODELS``) unless that variable is
already set."""

import pathlib

__version__ = "{version}"


def path() -> pathlib.Path:
    """The packaged models.toml."""
    return pathlib.Path(__file__).resolve().parent / "models.toml"
'''


def build(stage: pathlib.Path, out: pathlib.Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--wheel-dir", str(out), str(stage)],
        check=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "target" / "wheels" / "models")
    args = ap.parse_args()
    version = workspace_version()
    sections = split_toml((ROOT / "models.toml").read_text())
    unknown = set(sections) - {""} - {s for secs, _ in JOBS.values() for s in secs}
    if unknown:
        sys.exit(f"models_wheel: models.toml sections no wheel ships: {sorted(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("crowdsift_models*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="crowdsift-models-") as tmp:
        for job, (secs, what) in JOBS.items():
            package = f"crowdsift_models_{job}"
            stage = pathlib.Path(tmp) / job
            (stage / package).mkdir(parents=True)
            toml = sections[""] + "".join(sections.get(s, "") for s in secs)
            (stage / package / "models.toml").write_text(toml)
            # The paths in models.toml are relative to its folder: models/... beside it.
            for rel in files_of(toml):
                dest = stage / package / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, dest)
            (stage / package / "__init__.py").write_text(INIT.format(doc=f"The models of crowdsift: {what}.", version=version))
            (stage / "pyproject.toml").write_text(
                pyproject(f"crowdsift-models-{job}", package, version, f"The models of crowdsift: {what}, checksummed"))
            build(stage, args.out)
        stage = pathlib.Path(tmp) / "meta"
        skeleton = ROOT / "crates" / "py" / "models-wheel" / "crowdsift_models"
        init = (skeleton / "__init__.py").read_text()
        if f'__version__ = "{version}"' not in init:
            sys.exit(f"models_wheel: crowdsift_models/__init__.py must say __version__ = \"{version}\" (Cargo.toml)")
        shutil.copytree(skeleton, stage / "crowdsift_models")
        deps = [f"crowdsift-models-{job}=={version}" for job in JOBS]
        (stage / "pyproject.toml").write_text(pyproject(
            "crowdsift-models", "crowdsift_models", version,
            "The pretrained models crowdsift runs (backbones, OCR, faces), as one install", deps, data=False))
        build(stage, args.out)
    for wheel in sorted(args.out.glob("crowdsift_models*.whl")):
        size = wheel.stat().st_size
        print(f"wrote {wheel} ({size / 2**20:.0f} MiB)")
        if size > LIMIT:
            sys.exit(f"models_wheel: {wheel.name} is over the 100 MB file limit of package registries")


if __name__ == "__main__":
    main()
