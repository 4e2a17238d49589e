#!/usr/bin/env bash
# Installs what crowdsift needs on a fresh Debian machine, by package name from the registries:
#   - cmake and nasm (Debian) to build libjpeg-turbo, which the `turbojpeg` crate compiles in;
#   - the ONNX Runtime shared library (PyPI `onnxruntime`) for the embedding, OCR and face stages;
#   - with --test: Pillow and numpy (fixture generators), moto[server] (local S3 for tests) and
#     tensorboard (reads back the event files training writes).
# Idempotent: what is present is not installed again.
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in cmake nasm; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} (Debian)" >&2
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py_missing=()
python3 -c "import onnxruntime" 2>/dev/null || py_missing+=("onnxruntime>=1.31")
if ((want_test)); then
  python3 -c "import PIL, numpy" 2>/dev/null || py_missing+=("pillow" "numpy")
  python3 -c "import moto.server, boto3" 2>/dev/null || py_missing+=("moto[server]")
  python3 -c "import tensorboard" 2>/dev/null || py_missing+=("tensorboard")
fi
if ((${#py_missing[@]})); then
  echo "setup: installing ${py_missing[*]} (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "${py_missing[@]}"
fi
