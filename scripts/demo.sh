#!/usr/bin/env bash
# Runs every stage of crowdsift (scan, embed, audit, ocr, pii, redact, report) on the sample photos
# bundled in samples/ (a small price survey: samples/LICENSES.md) into out/samples, after
# installing what is needed.
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
cat <<'EOF'

What each stage found is in the summary above, a line per stage (samples/LICENSES.md says what
each sample photo was made to show). Where to look:
  out/samples/report.html         the report: what to do now, then each stage's findings, with pictures
  out/samples/findings.csv        one row per photo per check (and findings.parquet; the store: crowdsift.db)
  out/samples/audit/labels.csv    the label audit: each photo's suggested label and why
  out/samples/ocr_lines.parquet   the text read; pii.parquet the personal data in it, pii_held.parquet
                                  why a photo waits for a person
  out/samples/redacted/           release copies, personal data hidden, metadata removed
Then:
  ./target/debug/crowdsift review out/samples                      decide what was flagged, in a browser
  ./target/debug/crowdsift release out/samples --to out/release    write what may be published
EOF
