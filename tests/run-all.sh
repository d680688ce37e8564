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
harness_install_packages gcc g++ libc6-dev pkg-config valgrind make python3 python3-venv

# bindings/python is built by maturin (below), which makes it a Python extension module;
# cargo alone would link it against libpython.
echo "== build (release, once)"
cargo build --release --locked --workspace --exclude berth-python --all-targets

# The Python package, as a user installs it: pip builds it from the source tree with
# maturin (from PyPI), in a venv of its own. The Rust it needs is what was just built.
echo "== the Python package: pip install ./bindings/python, mypy on its tests, stubtest"
python3 -m venv target/pyenv
target/pyenv/bin/pip install -q --disable-pip-version-check ./bindings/python pytest mypy
# mypy --strict on the tests, through the stubs; stubtest: the stubs match the module.
(cd bindings/python && ../../target/pyenv/bin/mypy && ../../target/pyenv/bin/python -m mypy.stubtest --ignore-disjoint-bases berth)

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
echo "== cargo test, the C tests (installed, through pkg-config, shared and static, valgrind, ASan), pytest"
bash tests/harness/with-daemons.sh bash -c '
  cargo test --release --locked --workspace --exclude berth-python &&
  bash tests/c/run.sh &&
  target/pyenv/bin/python -m pytest -q -p no:cacheprovider bindings/python/tests'
