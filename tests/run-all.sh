#!/usr/bin/env bash
# berth's test command (the README's second command; .ci/run calls it).
# On a fresh Debian 12 machine it installs what the tests need, builds once (release),
# and runs every test. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the daemons and tools of the test harness (containerd, runc,
# docker-registry, skopeo, umoci, busybox-static, protoc for the gRPC crates), and
# gcc, g++, pkg-config and valgrind for the C tests.
source tests/harness/lib.sh
harness_install_packages gcc g++ libc6-dev pkg-config valgrind make python3

echo "== build (release, once)"
cargo build --release --locked --workspace --all-targets

echo "== the sample image is what sample/build.py makes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 sample/build.py "$tmp/sample.oci.tar" >/dev/null
cmp "$tmp/sample.oci.tar" sample/sample.oci.tar || {
  echo "sample/sample.oci.tar is stale: run python3 sample/build.py and commit it" >&2
  exit 1
}

echo "== the README's first command"
bash examples/read-sample.sh >"$tmp/readme.out" 2>&1 || { cat "$tmp/readme.out"; exit 1; }
grep -q 'ID=berth-sample' "$tmp/readme.out"

# Every test runs beside real daemons: tests/harness starts containerd and two
# registries on private sockets and ports, and stops exactly what it started.
echo "== cargo test, then the C tests (installed, through pkg-config, shared and static, valgrind, ASan)"
bash tests/harness/with-daemons.sh bash -c 'cargo test --release --locked --workspace && bash tests/c/run.sh'
