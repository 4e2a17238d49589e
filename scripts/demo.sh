#!/usr/bin/env bash
# Scans the sample photos bundled in samples/ (after installing what is needed) into out/samples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build -q -p crowdsift-cli
set +e
./target/debug/crowdsift scan samples/manifest.csv --out out/samples "$@"
code=$?
set -e
# Exit code 1 means "photos were flagged", which is what the samples are for.
if [[ $code -le 1 ]]; then
  echo "open out/samples/findings.csv (one row per photo per check) or query out/samples/crowdsift.db"
  exit 0
fi
exit "$code"
