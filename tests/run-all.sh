#!/usr/bin/env bash
# berth's test command (the README's second command; .ci/run calls it).
# On a fresh Debian 12 machine it installs what the tests need, builds once (release),
# and runs every test. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: umoci and busybox-static build the conformance image;
# gcc, g++, pkg-config and valgrind build and check the C tests.
packages=(umoci busybox-static gcc g++ libc6-dev pkg-config valgrind make python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

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

echo "== cargo test"
cargo test --release --locked --workspace

echo "== C tests (tests/c): installed, through pkg-config, shared and static, valgrind, ASan"
bash tests/c/run.sh
