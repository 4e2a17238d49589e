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
# The Python package: the wheel maturin builds from crates/py (dev profile, sharing the build
# above), installed and tested against the binary.
python3 scripts/wheel_features.py
rm -rf target/wheels/py
python3 -m maturin build --quiet --profile dev -m crates/py/Cargo.toml -o target/wheels/py
python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/py/crowdsift-*.whl
# The models as their own wheels, one per job, and crowdsift-models needing all three
# (crowdsift[models]): the Python tests find them through them.
python3 scripts/models_wheel.py
python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/models/crowdsift_models*.whl
python3 -m pytest -q crates/py/tests
# Coverage-guided fuzzing of the decoder, the manifest reader and the text rules, 40 s each
# (fuzz/README.md): a crash or hang fails the run.
bash scripts/fuzz.sh 40
