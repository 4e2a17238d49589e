#!/usr/bin/env bash
# Scans the sample photos bundled in samples/ (after installing what is needed) into out/samples,
# then embeds them with EfficientNet-Lite0 through ONNX Runtime into the same store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build -q -p crowdsift-cli
set +e
./target/debug/crowdsift scan samples/manifest.csv --out out/samples "$@"
code=$?
set -e
# Exit code 1 means "photos were flagged", which is what the samples are for.
[[ $code -le 1 ]] || exit "$code"
set +e
./target/debug/crowdsift embed samples/manifest.csv --out out/samples
code=$?
set -e
# Exit code 1: the truncated sample cannot be embedded, as it should not be.
[[ $code -le 1 ]] || exit "$code"
echo "open out/samples/findings.csv (one row per photo per check) or query out/samples/crowdsift.db"
