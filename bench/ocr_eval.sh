#!/usr/bin/env bash
# Accuracy of `crowdsift ocr`'s reader configurations on the generated evaluation set
# (scripts/make_ocr_eval.py, seed 7) -> bench/results/ocr_eval.md.
#   bash bench/ocr_eval.sh
# Rows: the default (PP-OCRv5; v6 small for Arabic and Thai photos; Tesseract for other scripts and
# Vietnamese), each photo read with its language as the hint (as from a manifest's `lang` column);
# the same with `--lang auto` (no hint); v6 small as the main set; PP-OCR alone (no Tesseract);
# line crops contrast-stretched or binarised before PP-OCR reads them. Photos/s: one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1   # as the crowdsift binary sets it: one OpenMP thread per Tesseract
set_dir=$(mktemp -d)
trap 'rm -rf "$set_dir"' EXIT
python3 scripts/make_ocr_eval.py --out "$set_dir" --seed 7
cargo build --release -q -p crowdsift-ocr --example ocr_eval
bin=target/release/examples/ocr_eval
langs=eng,fra,spa,por,vie,ind,ben,hin,tha,ara
out=bench/results/ocr_eval.md
{
  echo "# crowdsift ocr on the generated evaluation set"
  echo
  echo "120 photos, 354 lines: scripts/make_ocr_eval.py --seed 7 (ifct-dev food photos with price labels in"
  echo "ten languages; typed Noto/DejaVu and handwriting-style fonts; conditions clean, rotated 5-20°,"
  echo "perspective, blur, small text 11-15 px, low contrast, photo turned 90/180/270°)."
  echo "CER: edits / characters of the true lines, spaces ignored, a missed line costs all its characters."
  echo "Detection: a found line matches a true line at quad IoU >= 0.5 (one-to-one)."
  echo "Machine: $(nproc) cores; $(tesseract --version 2>&1 | head -1); $(date -u +%Y-%m-%d)."
  for row in "ppocrv5 --lang $langs --hint yes" "ppocrv5" "ppocrv6-small --lang $langs --hint yes" \
    "ppocrv5 --engine ppocr --lang $langs --hint yes" "ppocrv5 --lang $langs --hint yes --enhance contrast" \
    "ppocrv5 --lang $langs --hint yes --enhance binarise"; do
    set -- $row
    models=$1; shift
    echo
    echo "## --models $models $*"
    echo
    "$bin" "$set_dir" --models "$models" "$@" > "$set_dir/table.md" 2> "$set_dir/log"
    echo "$(tail -1 "$set_dir/log")"
    echo
    cat "$set_dir/table.md"
  done
} > "$out"
echo "wrote $out"
