#!/usr/bin/env bash
# Coverage-guided fuzzing of the paths that read untrusted bytes, with AFL++ through cargo-afl on
# the stable toolchain (fuzz/README.md):
#   decode    every photo format the sniffer accepts, under the limits, at every working size
#   manifest  CSV and Parquet manifests, listed row by row
#   pii_text  the personal-data rules and the release rule on any text
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # default: 40 s each, all three (CI: test.sh)
#
# Seeds: the hostile-file corpus (tests/fixtures/make_hostile.py) and the sample photos under 64 KB
# for decode, fuzz/seeds/<target>/ for the others. Findings are written under fuzz/out/<target>/;
# any crash or hang fails the run, printed with its input's path and the panic it makes. A crash
# found is fixed with a regression test (crates/ingest/tests/fuzz_regressions.rs reads
# fuzz/regressions/). Longer runs: give more seconds, and run one target per core.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-40}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode manifest pii_text)

if ! cargo afl --version >/dev/null 2>&1; then
    # Builds AFL++ 4.40c from the crate's bundled sources (needs make and a C compiler).
    cargo install cargo-afl --locked --version 0.18.2 --quiet
fi
# Optimised at level 1 (cargo-afl's default is 3, with one codegen unit): the targets are built on
# every test run, and the build, not the fuzzing, is what takes time there.
# fuzz/ is a workspace of its own with its own Cargo.lock: a crate of ours that gains a dependency
# needs it there too (`cd fuzz && cargo metadata --format-version 1 > /dev/null` adds just that).
(cd fuzz && AFL_OPT_LEVEL=${AFL_OPT_LEVEL:-1} cargo afl build --release --quiet --locked) || {
  echo "fuzz: build failed; if Cargo.lock is out of date: cd fuzz && cargo metadata --format-version 1 > /dev/null" >&2
  exit 1
}

rm -rf fuzz/out fuzz/work
mkdir -p fuzz/out fuzz/work/seeds/decode
python3 tests/fixtures/make_hostile.py fuzz/work/hostile >/dev/null
# A first byte picks the working size the target decodes to (see fuzz/src/bin/decode.rs).
find fuzz/work/hostile tests/data/wheel_photos/photos -type f -size -64k ! -name '*.csv' -print0 | sort -z |
    while IFS= read -r -d '' f; do
        printf '\x05' | cat - "$f" >"fuzz/work/seeds/decode/$(sha256sum "$f" | cut -c1-16)"
    done

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
failed=0
for t in "${targets[@]}"; do
    seeds=fuzz/seeds/$t
    [ "$t" = decode ] && seeds=fuzz/work/seeds/decode
    # A run slower than 5 s is a hang (a 16 MP decode takes well under one).
    cargo afl fuzz -i "$seeds" -o "fuzz/out/$t" -V "$seconds" -t 5000 "fuzz/target/release/$t" >"fuzz/out/$t.log" 2>&1 || {
        echo "fuzz $t: afl-fuzz failed"; tail -20 "fuzz/out/$t.log"; failed=1; continue
    }
    stats=fuzz/out/$t/default/fuzzer_stats
    field() { awk -F': ' -v k="$1" '$1 ~ "^"k" *$" {print $2}' "$stats"; }
    echo "fuzz $t: $(field execs_done) runs in $(field run_time) s ($(field execs_per_sec)/s), corpus $(field corpus_count), edges $(field bitmap_cvg), crashes $(field saved_crashes), hangs $(field saved_hangs)"
    for f in "fuzz/out/$t/default/crashes"/id:* "fuzz/out/$t/default/hangs"/id:*; do
        [ -e "$f" ] || continue
        failed=1
        echo "  $f:"
        timeout 10 "fuzz/target/release/$t" <"$f" 2>&1 | grep -m3 -E "panicked|error|overflow" | sed 's/^/    /' || true
    done
done
exit $failed
