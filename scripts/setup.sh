#!/usr/bin/env bash
# Installs what crowdsift needs on a fresh Debian machine, by package name from the registries:
#   - cmake and nasm (Debian) to build libjpeg-turbo, which the `turbojpeg` crate compiles in;
#   - the ONNX Runtime shared library (PyPI `onnxruntime`) for the embedding, OCR and face stages;
#   - Tesseract 5 (Debian `tesseract-ocr`) with the language packs of scripts PP-OCR lacks
#     (Bengali, Hindi, Thai, Arabic, Khmer) and Vietnamese, for `crowdsift ocr`;
#   - with --test: Pillow and numpy (fixture generators), moto[server] (local S3 for tests),
#     tensorboard (reads back the event files training writes), fontTools and Debian's Noto and
#     handwriting-style fonts (the generated OCR evaluation set), Chromium (opens report.html
#     headless), scikit-image and matplotlib
#     (their sample photographs: portraits and photos without people for the face detector), Faker, phonenumbers,
#     segno and python-barcode (the generated personal-data set: names, valid numbers, QR codes,
#     barcodes), maturin, pytest, pandas, pyarrow, PySpark and nbclient/ipykernel (the Python
#     package, its Spark helpers and the example notebook).
# Idempotent: what is present is not installed again.
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in cmake nasm; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
debs=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-vie tesseract-ocr-ben tesseract-ocr-hin tesseract-ocr-tha
  tesseract-ocr-ara tesseract-ocr-khm)
((want_test)) && debs+=(fonts-noto-core fonts-dejavu-core fonts-dkg-handwriting fonts-comic-neue fonts-femkeklaver
  fonts-kristi fonts-dancingscript fonts-breip fonts-humor-sans fonts-rufscript chromium chromium-driver)
for pkg in "${debs[@]}"; do
  deb_installed "$pkg" || missing+=("$pkg")
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
  python3 -c "import fontTools" 2>/dev/null || py_missing+=("fonttools")
  python3 -c "import skimage" 2>/dev/null || py_missing+=("scikit-image")
  python3 -c "import matplotlib" 2>/dev/null || py_missing+=("matplotlib")
  # The generated personal-data set: names and addresses from Faker's locales, valid phone numbers
  # from libphonenumber's metadata (pinned: the same seed gives the same set).
  python3 -c "import faker; assert faker.VERSION == '40.63.0'" 2>/dev/null || py_missing+=("faker==40.63.0")
  python3 -c "import phonenumbers; assert phonenumbers.__version__ == '9.0.43'" 2>/dev/null ||
    py_missing+=("phonenumbers==9.0.43")
  python3 -c "import segno; assert segno.__version__ == '1.6.6'" 2>/dev/null || py_missing+=("segno==1.6.6")
  python3 -c "import barcode; assert barcode.version == '0.16.1'" 2>/dev/null || py_missing+=("python-barcode==0.16.1")
  # The Python package (crates/py): built by maturin, tested with pytest on pandas and pyarrow tables.
  python3 -c "import maturin" 2>/dev/null || py_missing+=("maturin>=1.9,<2")
  python3 -c "import pytest" 2>/dev/null || py_missing+=("pytest")
  # The type stubs (.pyi) are checked against the functions by mypy's stubtest.
  python3 -c "import mypy.stubtest" 2>/dev/null || py_missing+=("mypy")
  # PySpark (Java 17 is on the machine) supports pandas 2 only.
  python3 -c "import pandas, pyarrow; assert int(pandas.__version__.split('.')[0]) == 2" 2>/dev/null ||
    py_missing+=("pandas>=2,<3" "pyarrow")
  python3 -c "import pyspark" 2>/dev/null || py_missing+=("pyspark>=3.5")
  # The example notebook, executed headless in a fresh kernel.
  python3 -c "import nbclient, nbformat, ipykernel" 2>/dev/null || py_missing+=("nbclient" "nbformat" "ipykernel")
fi
if ((${#py_missing[@]})); then
  echo "setup: installing ${py_missing[*]} (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "${py_missing[@]}"
fi
