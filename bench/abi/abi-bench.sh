#!/usr/bin/env bash
# The ABI benchmark: a trivial handle call from C, and a 1 MiB read through the C ABI
# against the same read through berth-core directly, in one run.
#   bash bench/abi/abi-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/abi/make-image.py "$work/layout"
make -s install PREFIX="$work/prefix" >/dev/null 2>&1
cargo build -q --release --locked -p berth-core --example read_bench
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -O2 -std=c99 -o "$work/abi-bench" bench/abi/abi-bench.c \
   $(pkg-config --cflags --libs berth) -Wl,-rpath,"$(pkg-config --variable=libdir berth)"
endpoint="oci://$work/layout"
c=$("$work/abi-bench" "$endpoint")
rust=$(target/release/examples/read_bench "$endpoint")
id_ns=$(awk '/image_id_ns/ { print $2 }' <<<"$c")
abi_read=$(awk '/read_1mib_ns/ { print $2 }' <<<"$c")
core_read=$(awk '/read_1mib_ns/ { print $2 }' <<<"$rust")
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-36s %12s\n' "measure" "median"
printf '%-36s %9.1f ns\n' "berth_image_id (C, per call)" "$id_ns"
awk -v a="$abi_read" -v c="$core_read" 'BEGIN {
  printf "%-36s %9.3f ms\n", "read 1 MiB through the C ABI", a / 1e6
  printf "%-36s %9.3f ms\n", "read 1 MiB through berth-core", c / 1e6
  printf "%-36s %9.2fx\n", "ABI / core", a / c
}'
