#!/usr/bin/env bash
# The C test suite of libberth, as a C program sees the library: installed with
# `make install`, found through pkg-config only, linked shared and static.
#
#   bash tests/c/run.sh          (tests/run-all.sh calls it after `cargo build --release`)
#
# For each of test_api.c and test_misuse.c (and examples/c/ls-image.c), and
# test_daemon.c against each daemon of the harness (tests/harness/with-daemons.sh sets
# BERTH_TEST_CONTAINERD, BERTH_TEST_DOCKER and BERTH_TEST_PODMAN; a daemon whose variable
# is unset is skipped with a SKIP line, or fails the run under CI=true):
#   - shared build, run under valgrind memcheck: no memcheck error, 0 bytes definitely
#     lost ("still reachable" / "possibly lost" blocks are the library's global statics:
#     the tokio runtime and its worker threads live as long as the process);
#   - shared build with -fsanitize=address, run with LeakSanitizer on;
#   - static build (-static, `pkg-config --static`), run as is.
# test_daemon runs under ASan against every daemon, under valgrind against Podman only
# (its run calls the most functions: pods, and libpod beside the Docker API; valgrind
# costs about half a minute a daemon) and static against containerd only: the same
# library code runs under each, and each daemon run takes its time.
# Then tests/c/check-symbols.sh on the installed libberth.so.1.
# The last line is "N passed, M failed" (N + M runs); the exit status is non-zero on any
# failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

# --- tools -------------------------------------------------------------------------------
missing=()
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
bin=$tmp/bin
logs=$tmp/logs
mkdir -p "$bin" "$logs"

# --- install, then everything through pkg-config -------------------------------------------
echo "== make install PREFIX=$prefix"
if ! make install PREFIX="$prefix" >"$logs/install.log" 2>&1; then
  cat "$logs/install.log" >&2
  echo "make install failed" >&2
  exit 1
fi
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
libdir=$(pkg-config --variable=libdir berth)
if [ "$libdir" != "$prefix/lib" ]; then
  echo "pkg-config found another berth (libdir $libdir, want $prefix/lib)" >&2
  exit 1
fi
echo "   berth $(pkg-config --modversion berth): cflags '$(pkg-config --cflags berth)', libs '$(pkg-config --libs berth)'"

endpoint="oci-archive://$repo/sample/sample.oci.tar"
cflags=(-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1)
shared_libs() { pkg-config --cflags --libs berth; }
static_libs() { pkg-config --static --cflags --libs berth; }

# A panic caught at the boundary prints its message on stderr; a backtrace after each
# would only bury the test's own report.
export RUST_BACKTRACE=0

# build NAME SOURCE MODE: MODE is shared, asan or static.
build() {
  local name=$1 src=$2 mode=$3 log=$logs/build-$1.log
  local -a cmd
  case $mode in
    shared) cmd=(cc "${cflags[@]}" -o "$bin/$name" "$src" $(shared_libs) -Wl,-rpath,"$libdir" -lpthread) ;;
    asan) cmd=(cc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer -o "$bin/$name" "$src"
                 $(shared_libs) -Wl,-rpath,"$libdir" -lpthread) ;;
    static) cmd=(cc "${cflags[@]}" -static -o "$bin/$name" "$src" $(static_libs) -lpthread) ;;
  esac
  if ! "${cmd[@]}" >"$log" 2>&1; then
    echo "${cmd[*]}" >&2
    cat "$log" >&2
    echo "build of $name failed" >&2
    exit 1
  fi
  # glibc warns that getaddrinfo/getpwuid_r in a static binary need its shared NSS
  # libraries at run time: expected for any static glibc program, harmless here.
  if grep -v -e 'requires at runtime the shared libraries from the glibc version' \
             -e 'in function `' "$log" | grep -q .; then
    echo "   warnings building $name:"
    grep -v -e 'requires at runtime the shared libraries' -e 'in function `' "$log" | sed 's/^/     /'
  fi
}

passed=0
failed=0
failures=()

# report NAME STATUS LOG [NOTE]: counts one run, shows the log of a failed one.
report() {
  local name=$1 status=$2 log=$3 note=${4:-}
  if [ "$status" = 0 ]; then
    passed=$((passed + 1))
    echo "PASS $name${note:+ ($note)}"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL $name${note:+ ($note)}"
    if [ -s "$log" ]; then
      local lines
      lines=$(wc -l <"$log")
      head -n 300 "$log" | sed 's/^/   | /'
      if [ "$lines" -gt 300 ]; then echo "   | ... ($((lines - 300)) more lines)"; fi
    fi
  fi
}

# The last "checks" line a test program printed, for the report.
summary_of() { grep -E '^[a-z_-]+: [0-9]+ checks' "$1" | tail -n 1 || true; }

# run_valgrind NAME CHECK-OUTPUT ARGS...: a shared build under memcheck. NAME is the
# program, or PROGRAM@LABEL for one of several runs of it.
run_valgrind() {
  local name=$1 want=$2
  shift 2
  local out=$logs/$name.vg.out vg=$logs/$name.vg.log status=0
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --log-file="$vg" "$bin/${name%@*}" "$@" >"$out" 2>&1 || status=$?
  local errors lost
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$vg" | tail -n 1 | tr -d ,)
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$vg" | tail -n 1 | tr -d ,)
  lost=${lost:-0} # no LEAK SUMMARY: "All heap blocks were freed"
  local note="memcheck: ${errors:-?} errors, $lost bytes definitely lost"
  if [ "${errors:-x}" != 0 ] || [ "$lost" != 0 ]; then
    if [ "$status" = 0 ]; then status=98; fi
    { echo "--- valgrind:"; cat "$vg"; } >>"$out"
  fi
  if [ -n "$want" ] && ! grep -q -- "$want" "$out"; then
    echo "output lacks \"$want\"" >>"$out"
    if [ "$status" = 0 ]; then status=97; fi
  fi
  local s
  s=$(summary_of "$out")
  report "$name (shared, valgrind)" "$status" "$out" "${s:+$s; }$note"
}

# run_plain NAME LABEL CHECK-OUTPUT ARGS...: NAME as for run_valgrind.
run_plain() {
  local name=$1 label=$2 want=$3
  shift 3
  local out=$logs/$name.out status=0
  "$bin/${name%@*}" "$@" >"$out" 2>&1 || status=$?
  if [ -n "$want" ] && ! grep -q -- "$want" "$out"; then
    echo "output lacks \"$want\"" >>"$out"
    if [ "$status" = 0 ]; then status=97; fi
  fi
  local s
  s=$(summary_of "$out")
  report "$name ($label)" "$status" "$out" "$s"
}

echo "== build (through pkg-config: shared, AddressSanitizer, static)"
for t in test_api test_misuse; do
  build "$t" "tests/c/$t.c" shared
  build "$t-asan" "tests/c/$t.c" asan
  build "$t-static" "tests/c/$t.c" static
done
build test_daemon tests/c/test_daemon.c shared
build test_daemon-asan tests/c/test_daemon.c asan
build test_daemon-static tests/c/test_daemon.c static
build test_stress-asan tests/c/test_stress.c asan
build ls-image examples/c/ls-image.c shared
build ls-image-static examples/c/ls-image.c static

echo "== run"
run_valgrind test_api "" "$endpoint"
run_valgrind test_misuse "" "$endpoint"
run_valgrind ls-image "/etc/os-release" "$endpoint" sample

# LeakSanitizer reports nothing for the library's statics (they stay reachable from
# globals and from the live tokio worker threads), so no suppressions are needed.
for t in test_api test_misuse; do
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 run_plain "$t-asan" "shared, AddressSanitizer" "" "$endpoint"
done

for t in test_api test_misuse; do
  run_plain "$t-static" "static" "" "$endpoint"
done

# Stress: 16 threads x 1,000 mixed calls on shared handles of the sample image and of the
# bigger image tests/stress_image.py writes, compared with a serial run, then 400 close
# races, under AddressSanitizer and LeakSanitizer: about 12 s here (a minute when the
# two cores are busy with builds). Not under valgrind: it ran clean once (0 errors, 0
# bytes definitely lost) but took 3.6 min, and it runs one thread at a time, so the
# close races hardly race there.
python3 tests/stress_image.py "$tmp/stress.oci.tar"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 run_plain test_stress-asan "shared, AddressSanitizer" "" \
  "$endpoint" sample "oci-archive://$tmp/stress.oci.tar" stress
run_plain ls-image-static "static" "/etc/os-release" "$endpoint" sample

# daemon_run LABEL VARIABLE ENDPOINT: test_daemon against one daemon, when the harness
# set VARIABLE.
daemon_run() {
  local label=$1 var=$2 endpoint=$3 started=$SECONDS
  echo "== against $label (tests/harness)"
  if [ -z "${!var:-}" ]; then
    if [ "${CI:-}" = true ]; then
      echo "$var is not set, and CI=true: run this under tests/harness/with-daemons.sh" >"$logs/$label.log"
      report "test_daemon@$label" 1 "$logs/$label.log" "no $label"
    else
      echo "SKIP test_daemon@$label: $var is not set (run under tests/harness/with-daemons.sh, as tests/run-all.sh does; under CI=true this fails)"
    fi
    return 0
  fi
  if [ "$label" = podman ]; then
    run_valgrind "test_daemon@$label" "" "$endpoint"
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 run_plain "test_daemon-asan@$label" "shared, AddressSanitizer" "" "$endpoint"
  if [ "$label" = containerd ]; then
    run_plain "test_daemon-static@$label" "static" "" "$endpoint"
  fi
  echo "   ($label: $((SECONDS - started)) s)"
}

daemon_run containerd BERTH_TEST_CONTAINERD \
  "containerd://${BERTH_TEST_CONTAINERD:-}?namespace=${BERTH_TEST_NAMESPACE:-default}${BERTH_TEST_RUNC_ROOT:+&runc_root=$BERTH_TEST_RUNC_ROOT}"
daemon_run docker BERTH_TEST_DOCKER "docker://${BERTH_TEST_DOCKER:-}"
daemon_run podman BERTH_TEST_PODMAN "podman://${BERTH_TEST_PODMAN:-}"

echo "== exported symbols"
status=0
tests/c/check-symbols.sh "$prefix/lib/libberth.so.1" >"$logs/symbols.log" 2>&1 || status=$?
report "check-symbols (libberth.so.1)" "$status" "$logs/symbols.log" "$(tail -n 1 "$logs/symbols.log")"

if ((failed)); then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
