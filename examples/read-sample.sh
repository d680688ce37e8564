#!/usr/bin/env bash
# berth's main job, on a fresh machine: build the CLI, then read the files of the sample
# image (sample/sample.oci.tar, built by sample/build.py) without unpacking or running it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The gRPC crates of the daemon backends compile protocol definitions with protoc.
if ! command -v protoc >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q protobuf-compiler
fi
cargo build --release --locked -q -p berth-cli
berth=target/release/berth
image=oci-archive://sample/sample.oci.tar

set -x
"$berth" --runtime "$image" images
"$berth" --runtime "$image" layers sample
"$berth" --runtime "$image" ls -R sample /
"$berth" --runtime "$image" cat sample /etc/os-release
"$berth" --runtime "$image" --json ls -R --hash sample /etc
