#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in fuzz/ (cargo-fuzz, nightly toolchain).
#
#   scripts/fuzz.sh [TARGET] [RUNS]     e.g. scripts/fuzz.sh ews_soap_response 1000000
#
# Without TARGET every target runs in turn. Each runs RUNS executions (default 10,000,000), stopping
# early after FUZZ_MAX_TIME seconds (default 240). The committed seed corpus, fuzz/corpus/<target>/,
# is copied to a temporary folder first, so a run never grows it; a crash is written to
# fuzz/artifacts/<target>/ (minimise it with `cargo +nightly fuzz tmin <target> <file>`, then add it to
# the corpus as a regression: the crates' replay tests run every corpus file).
#
# Built without a sanitizer (-s none): every calconnect crate forbids unsafe code, and the run is several
# times faster than under AddressSanitizer; overflow checks and debug assertions stay on (-a).
# The build goes through the shared cargo lock; the fuzzers run outside it.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/calconnect-target-fuzz}"
export CARGO_TARGET_DIR="$target_dir"
runs="${2:-10000000}"
max_time="${FUZZ_MAX_TIME:-240}"
build_flags=(-s none -O -a)

flock /tmp/calconnect-cargo.lock cargo +nightly fuzz build "${build_flags[@]}" ${1:+"$1"}

if [[ -n "${1:-}" ]]; then
    targets=("$1")
else
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
root="$(pwd)"
for target in "${targets[@]}"; do
    # -jobs=1 runs the fuzzer in a worker whose output goes to fuzz-0.log in the working folder.
    work="$(mktemp -d "${TMPDIR:-/tmp}/calconnect-fuzz-$target.XXXXXX")"
    mkdir "$work/corpus"
    cp fuzz/corpus/"$target"/* "$work/corpus/"
    mkdir -p fuzz/artifacts/"$target"
    echo "== $target: $runs runs or ${max_time}s"
    status=0
    (cd "$work" && "$target_dir/$triple/release/$target" corpus \
        -runs="$runs" -jobs=1 -rss_limit_mb=2048 -max_len=65536 -max_total_time="$max_time" \
        -artifact_prefix="$root/fuzz/artifacts/$target/" -print_final_stats=1 >run.log 2>&1) || status=$?
    # The worker's whole log (fuzz-0.log) is echoed into run.log: keep the summary and any failure.
    grep -E '^(Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))|panicked|^SUMMARY|ERROR: libFuzzer|^artifact_prefix|Test unit written' \
        "$work/run.log" | sort -u
    rm -rf "$work"
    [[ $status -eq 0 ]] || { echo "== $target FAILED (exit $status); see fuzz/artifacts/$target/"; exit "$status"; }
done
