#!/usr/bin/env bash
# berth's test command (the README's second command; .ci/run calls it).
# On a fresh Debian 12 machine it installs what the tests need, builds once (release),
# and runs every test. Any failure fails the run. The last lines are the time of each
# phase, so that growth is seen (the whole must stay under 25 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# --- phase times -----------------------------------------------------------------------
phase_names=()
phase_secs=()
phase_name=
phase_start=$SECONDS
run_start=$SECONDS
# phase NAME: ends the phase that runs (recording its time) and starts NAME.
phase() {
  if [ -n "$phase_name" ]; then
    phase_names+=("$phase_name")
    phase_secs+=($((SECONDS - phase_start)))
  fi
  phase_name=$1
  phase_start=$SECONDS
  [ -z "$1" ] || echo "== $1"
}
# Background suites report their own times through files in $tmp/times/.
print_times() {
  local status=$? p
  phase ""
  # A failure ends the run: the background suites go with it.
  for p in "${bg_pids[@]}"; do
    kill $(descendants "$p") 2>/dev/null || true
  done
  echo
  echo "== phase times (s)"
  local i f
  for i in "${!phase_names[@]}"; do
    printf '%6d  %s\n' "${phase_secs[$i]}" "${phase_names[$i]}"
  done
  for f in "$tmp"/times/*; do
    [ -e "$f" ] && printf '%6s  %s (in the background)\n' "$(cat "$f")" "$(basename "$f")"
  done
  printf '%6d  total\n' $((SECONDS - run_start))
  rm -rf "$tmp"
  exit "$status"
}
descendants() { # descendants PID: PID and every process under it
  local c
  echo "$1"
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; done
}
bg_pids=()
tmp=$(mktemp -d)
mkdir -p "$tmp/times"
trap print_times EXIT

# --- set-up ---------------------------------------------------------------------------
# Debian packages: the daemons and tools of the test harness (containerd, runc,
# docker-registry, skopeo, umoci, busybox-static, protoc for the gRPC crates), and
# gcc, g++, pkg-config and valgrind for the C tests.
phase "Debian packages"
source tests/harness/lib.sh
harness_install_packages gcc g++ libc6-dev pkg-config valgrind make python3 python3-venv

# bindings/python is built by maturin (below), which makes it a Python extension module;
# cargo alone would link it against libpython.
# The module rule of docs/architecture.md: no module imports one that imports it back.
phase "module cycles (core, ffi)"
python3 tests/module_cycles.py core ffi

phase "build (release, once)"
cargo build --release --locked --workspace --exclude berth-python --all-targets

# --- background suites: they share nothing with the daemon tests -------------------------
# bg NAME CMD...: runs CMD in the background, its output in $tmp/NAME.log, its time in
# $tmp/times/NAME; `wait_bg` collects them all at the end.
bg_names=()
bg() {
  local name=$1
  shift
  (
    start=$SECONDS
    "$@" >"$tmp/$name.log" 2>&1
    status=$?
    echo $((SECONDS - start)) >"$tmp/times/$name"
    exit $status
  ) &
  bg_pids+=($!)
  bg_names+=("$name")
}
wait_bg() {
  local i failed=0
  for i in "${!bg_pids[@]}"; do
    if wait "${bg_pids[$i]}"; then
      echo "== ${bg_names[$i]}: passed"
      tail -n 12 "$tmp/${bg_names[$i]}.log" | sed 's/^/   /'
    else
      echo "== ${bg_names[$i]}: FAILED"
      sed 's/^/   | /' "$tmp/${bg_names[$i]}.log"
      failed=1
    fi
  done
  return $failed
}

# Fuzzing (fuzz/README.md): every target over its committed corpus (the regression
# inputs included), then 10 s of fresh fuzzing each, two at a time. Reniced: the daemon
# tests come first.
bg "fuzz (replay + smoke 10 s)" nice -n 10 bash fuzz/run.sh smoke 10
# The soak, short: 90 s of open/read/close cycles on 4 threads through libberth, RSS flat.
bg "soak (90 s, 4 threads)" bash bench/soak/soak.sh 90 5 4

# The Python package, as a user installs it: pip builds it from the source tree with
# maturin (from PyPI), in a venv of its own. The Rust it needs is what was just built.
phase "the Python package: pip install ./bindings/python, mypy on its tests, stubtest"
python3 -m venv target/pyenv
target/pyenv/bin/pip install -q --disable-pip-version-check ./bindings/python pytest mypy
# mypy --strict on the tests, through the stubs; stubtest: the stubs match the module.
(cd bindings/python && ../../target/pyenv/bin/mypy && ../../target/pyenv/bin/python -m mypy.stubtest --ignore-disjoint-bases berth)

phase "the sample image is what sample/build.py makes; the README's first command"
python3 sample/build.py "$tmp/sample.oci.tar" >/dev/null
cmp "$tmp/sample.oci.tar" sample/sample.oci.tar || {
  echo "sample/sample.oci.tar is stale: run python3 sample/build.py and commit it" >&2
  exit 1
}
bash examples/read-sample.sh >"$tmp/readme.out" 2>&1 || { cat "$tmp/readme.out"; exit 1; }
grep -q 'ID=berth-sample' "$tmp/readme.out"

# Every test runs beside real daemons: tests/harness starts containerd, dockerd, Podman
# and two registries on private sockets and ports, and stops exactly what it started.
phase "cargo test, the C tests (installed, pkg-config, shared and static, valgrind, ASan, stress), pytest"
bash tests/harness/with-daemons.sh bash -c '
  cargo test --release --locked --workspace --exclude berth-python &&
  bash tests/c/run.sh &&
  target/pyenv/bin/python -m pytest -q -p no:cacheprovider bindings/python/tests'

phase "waiting for the background suites"
wait_bg
