#!/usr/bin/env bash
# The test suite: exactly what CI runs (.ci/run). Needs ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# One OpenMP thread per Tesseract instance in the test processes too (the CLI sets this itself).
export OMP_THREAD_LIMIT=1
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo nextest run --workspace --no-fail-fast
