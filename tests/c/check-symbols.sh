#!/usr/bin/env bash
# The exported symbols of libberth.so must be exactly ffi/symbols.txt: a symbol that
# disappears breaks callers, and one that appears must be added on purpose.
# Usage: tests/c/check-symbols.sh LIBBERTH_SO [--update]
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=${1:?usage: check-symbols.sh LIBBERTH_SO [--update]}
actual=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
if [ "${2:-}" = "--update" ]; then
  printf '%s\n' "$actual" > ffi/symbols.txt
  echo "ffi/symbols.txt updated"
  exit 0
fi
if ! diff -u ffi/symbols.txt <(printf '%s\n' "$actual"); then
  echo "FAIL: libberth's exported symbols differ from ffi/symbols.txt (- removed, + added)." >&2
  echo "      A removed symbol breaks the ABI; if the change is intended, run" >&2
  echo "      tests/c/check-symbols.sh $lib --update and commit ffi/symbols.txt." >&2
  exit 1
fi
echo "symbols: $(wc -l < ffi/symbols.txt) exported, as listed in ffi/symbols.txt"
