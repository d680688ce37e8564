#!/usr/bin/env bash
# The soak (issue 11): open/read/close cycles through libberth for a long time, on a few
# threads, with flat memory.
#
#   bash bench/soak/soak.sh [SECONDS [INTERVAL [THREADS]]]     (default 600 10 4)
#
# Builds libberth (make install into a temp prefix), the stress image of
# tests/stress_image.py, and bench/soak/soak.c through pkg-config; runs the cycles on the
# sample image and the stress image for SECONDS, sampling the process's RSS every
# INTERVAL seconds; prints the curve (every sample, then start, min, max, end).
# Fails (exit 1) when a call fails, or when after the warm-up (the first fifth of the
# run, at least 30 s in a run of a minute or more, at least two samples) the RSS goes
# above the highest of the warm-up by more than SOAK_BOUND_KIB (default 8192: 8 MiB;
# the allocator's arenas and caches settle in the warm-up, a leak keeps growing past
# it; samples here swing by about 3 MiB from one to the next). `SOAK_CSV=FILE` keeps
# the samples. CI runs the short version: `bash bench/soak/soak.sh 90 5 4` (about
# 95 s once libberth is built).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
interval=${2:-10}
threads=${3:-4}
bound=${SOAK_BOUND_KIB:-8192}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== build (make install PREFIX=$work/prefix), the stress image, soak.c"
make -s install PREFIX="$work/prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
python3 tests/stress_image.py "$work/stress.oci.tar"
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -o "$work/soak" bench/soak/soak.c \
  $(pkg-config --cflags --libs berth) -Wl,-rpath,"$(pkg-config --variable=libdir berth)" -lpthread

echo "== soak: ${seconds} s, a sample every ${interval} s, ${threads} threads"
"$work/soak" "$seconds" "$interval" "$threads" \
  "oci-archive://$PWD/sample/sample.oci.tar" sample "oci-archive://$work/stress.oci.tar" stress | tee "$work/samples"
if [ -n "${SOAK_CSV:-}" ]; then
  awk '$1 == "sample" { print $2 "," $3 "," $4 }' "$work/samples" >"$SOAK_CSV"
fi

awk -v total="$seconds" -v bound="$bound" '
  BEGIN { n = 0 }
  $1 == "sample" { t[n] = $2; rss[n] = $3; cyc[n] = $4; n++ }
  END {
    if (n < 4) { print "too few samples (" n ")"; exit 1 }
    warm = total / 5
    if (warm < 30 && total >= 60) warm = 30
    min = max = rss[0]; peak_warm = 0; peak_after = 0; warm_samples = 0
    for (i = 0; i < n; i++) {
      if (rss[i] < min) min = rss[i]
      if (rss[i] > max) max = rss[i]
      if (t[i] <= warm || warm_samples < 2) { if (rss[i] > peak_warm) peak_warm = rss[i]; warm_samples++ }
      else if (rss[i] > peak_after) peak_after = rss[i]
    }
    printf "RSS (KiB): start %d, min %d, max %d, end %d; warm-up (first %d s) peak %d, after it peak %d (%+d); %d cycles, %.0f per second\n",
      rss[0], min, max, rss[n - 1], warm, peak_warm, peak_after, peak_after - peak_warm, cyc[n - 1], cyc[n - 1] / t[n - 1]
    if (peak_after > peak_warm + bound) {
      printf "FAIL: the RSS grew %d KiB past the warm-up peak (bound %d KiB)\n", peak_after - peak_warm, bound
      exit 1
    }
    printf "PASS: flat within %d KiB after the warm-up\n", bound
  }' "$work/samples"
