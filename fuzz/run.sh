#!/usr/bin/env bash
# berth's fuzz driver (issue 11). See fuzz/README.md.
#
#   fuzz/run.sh replay                 every target over its committed corpus, once
#   fuzz/run.sh smoke SECONDS          fuzz every target for SECONDS, two at a time
#   fuzz/run.sh long MINUTES TARGET... fuzz the named targets for MINUTES each
#   fuzz/run.sh build                  only build
#
# Environment:
#   BERTH_FUZZ_SANITIZER  none (default: fastest build and runs) or address (ASan+LSan:
#                         leaks and memory errors too, about twice the build and half the speed)
#   BERTH_FUZZ_TARGETS    targets for replay/smoke (default: all of `cargo fuzz list`)
#   BERTH_FUZZ_JOBS       targets fuzzed at once (default 2)
#   BERTH_FUZZ_RSS_MB     memory limit per target in MiB (default 2048, libFuzzer's)
#
# One build serves every mode: the binaries are run directly, not through `cargo fuzz
# run` (which would check the build again per target). Exits non-zero when any target
# finds a crash, a leak, a timeout or an out-of-memory; the input is saved under
# fuzz/artifacts/TARGET/ and its path printed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
script="$here/$(basename "$0")"
cd "$here"
# cargo fuzz passes nightly-only flags (-Z, sanitizer coverage); the toolchain is stable.
export RUSTC_BOOTSTRAP=1
sanitizer="${BERTH_FUZZ_SANITIZER:-none}"
jobs="${BERTH_FUZZ_JOBS:-2}"
rss_mb="${BERTH_FUZZ_RSS_MB:-2048}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# Each sanitizer builds into its own directory: switching between them would otherwise
# rebuild everything in place (the flags differ) and leave the other build cold.
if [ "$sanitizer" = none ]; then
    target_dir="$here/target"
    target_args=()
else
    target_dir="$here/target/$sanitizer"
    target_args=(--target-dir "$target_dir")
fi
bin_dir="$target_dir/$triple/release"

usage() {
    sed -n '4,8p' "$script" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "fuzz: installing cargo-fuzz" >&2
        cargo install cargo-fuzz --version 0.13.2 --locked
    fi
}

build() {
    ensure_cargo_fuzz
    local start=$SECONDS
    # libberth without its daemon backends (fuzz/Cargo.toml): offline images only, a
    # third of the build.
    cargo fuzz build -s "$sanitizer" "${target_args[@]}"
    echo "fuzz: build (sanitizer $sanitizer) took $((SECONDS - start)) s" >&2
}

all_targets() {
    if [ -n "${BERTH_FUZZ_TARGETS:-}" ]; then
        echo "$BERTH_FUZZ_TARGETS"
    else
        cargo fuzz list
    fi
}

# run_one TARGET SECONDS: fuzz (SECONDS > 0) or replay (SECONDS = 0) one target; its log
# goes to target/logs/TARGET.log (target/SANITIZER/logs/ with a sanitizer, so that runs
# of both kinds can go on at once) and one summary line to stdout. Both kinds share the
# scratch corpus target/grown/TARGET/.
run_one() {
    local t=$1 secs=$2
    local log="$target_dir/logs/$t.log" grown="$here/target/grown/$t"
    mkdir -p "$target_dir/logs" "$grown" "$here/artifacts/$t"
    local args=(-rss_limit_mb="$rss_mb" -timeout=20 -artifact_prefix="$here/artifacts/$t/" -print_final_stats=1)
    if [ "$secs" -eq 0 ]; then
        args+=(-runs=0)
    else
        # New inputs go to the scratch corpus (first directory); the seeds stay as committed.
        args+=(-max_total_time="$secs" "$grown")
    fi
    local start=$SECONDS rc=0
    "$bin_dir/$t" "${args[@]}" "$here/corpus/$t" >"$log" 2>&1 || rc=$?
    local runs cov
    # A crash leaves neither line: `|| true`, or set -e would end this job silently.
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)" || true
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)" || true
    printf 'fuzz: %-15s %s  exit %d  %s executions  %s s  coverage %s\n' \
        "$t" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$rc" "${runs:-?}" "$((SECONDS - start))" "${cov:-?}"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|panicked|SUMMARY|Test unit written|artifact' "$log" | head -20 | sed 's/^/fuzz:   /' || true
        echo "fuzz:   log: $log"
    fi
    return "$rc"
}

# run_all SECONDS TARGET...: `jobs` targets at a time; fails if any failed.
run_all() {
    local secs=$1
    shift
    local failed=0 running=0
    for t in "$@"; do
        run_one "$t" "$secs" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
            wait -n || failed=1
            running=$((running - 1))
        fi
    done
    while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
    done
    return "$failed"
}

mode="${1:-}"
case "$mode" in
    build)
        build
        ;;
    replay)
        build
        # shellcheck disable=SC2046
        run_all 0 $(all_targets)
        ;;
    smoke)
        [ $# -eq 2 ] || usage
        build
        # shellcheck disable=SC2046
        run_all "$2" $(all_targets)
        ;;
    long)
        [ $# -ge 3 ] || usage
        minutes=$2
        shift 2
        build
        run_all $((minutes * 60)) "$@"
        ;;
    *)
        usage
        ;;
esac
