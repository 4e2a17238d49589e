#!/usr/bin/env bash
# Runs every stage of crowdsift (scan, embed, audit, ocr, pii, redact) on the sample photos bundled
# in samples/ into out/samples, after installing what is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build -q -p crowdsift-cli
set +e
./target/debug/crowdsift run samples/manifest.csv --out out/samples "$@"
code=$?
set -e
# Exit code 1 means "photos were flagged", which is what the samples are for.
[[ $code -le 1 ]] || exit "$code"
echo "open out/samples/report.html, out/samples/findings.csv (one row per photo per check), out/samples/ocr_lines.parquet, pii.parquet and redactions.parquet (text, personal data, copies), out/samples/redacted/ (release copies), or query out/samples/crowdsift.db; then: ./target/debug/crowdsift review out/samples, and ./target/debug/crowdsift release out/samples --to out/release"
