#!/usr/bin/env bash
# The berth Python package (bindings/python) against what Python programs use today.
#
#   bash bench/python/python-bench.sh [-n RUNS] [--only list|read] [--reinstall]
#
# Jobs (medians of RUNS timed runs, default 10, after an untimed warm-up; the contenders
# of a job are interleaved run by run, their order alternating):
#   read  read every regular file of the Debian image (bench/work/debian.oci.tar, tag
#         bookworm; 3 layers, whiteouts and an opaque directory), each run a fresh Python
#         process (the archive itself is in the page cache: it is read once untimed):
#         - berth: berth.connect("oci-archive://ARCHIVE"), open_image, filesystem(),
#           fs.scan("/") and fs.read_bytes() of every "file" entry;
#         - tarfile read: every layer blob in order (read out of the same archive with
#           tarfile), its members iterated, extractfile().read() of every regular file
#           (not of hard links, whose targets are read; whiteouts not applied: this
#           reads files later layers delete, too);
#         - tarfile extract: extractall of every layer in order into a fresh directory
#           (filter "fully_trusted"), whiteouts applied, then a walk reading every file.
#         Timed in the process from opening the image to the last byte ("in process"),
#         and by the shell around the whole process (interpreter start-up and imports
#         included). The extraction directory is removed (and `sync`ed) untimed.
#         The warm-up checks that the three see the same merged tree: the path, size
#         and sha256 of every regular file (tarfile read merges its layers in memory).
#         Every timed run checks the file and byte counts again.
#   list  list 50 stopped busybox containers with a full inspect of each, on the test
#         harness' dockerd, each contender in a warm process (connected beforehand):
#         berth (`for s in rt.containers(): rt.open_container(s["id"]).inspect()`) vs
#         docker-py's client.containers.list(all=True), which inspects each container.
#
# The list job starts the test harness (tests/harness/up.sh) and stops it at the end;
# with BERTH_TEST_DOCKER already set (tests/harness/with-daemons.sh) it uses that daemon.
# The read job needs no daemon.
#
# Environment:
#   PYTHON=...     the interpreter with the berth package (default target/pyenv/bin/python);
#                  --reinstall (or a failing `import berth`) runs
#                  `PYTHON -m pip install ./bindings/python` (a cargo build) first
#   ARCHIVE=... TAG=...  the image of the read job (default bench/work/debian.oci.tar,
#                  bookworm; built by bench/build-debian-image.sh when missing)
#   BENCH_TMP=DIR  where the tarfile extract variant unpacks (default bench/work/; e.g.
#                  /dev/shm/pyb for tmpfs)
# docker-py comes from PYTHON if it has it, else from a venv of the same interpreter in
# bench/work/python-bench-docker-py-venv (made, and docker installed from PyPI, once).
# Needs root (the harness; extracting with the files' owners). The report goes to stdout
# and bench/work/python-bench-last.txt.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
REPO=$PWD

RUNS=10
ONLY=read,list
REINSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        -n) RUNS=${2:?-n needs a number}; shift ;;
        --only) ONLY=${2:?--only needs list or read}; shift ;;
        --reinstall) REINSTALL=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
for j in ${ONLY//,/ }; do
    case $j in list|read) ;; *) echo "unknown job $j (list, read)" >&2; exit 2 ;; esac
done
has() { [[ ",$ONLY," == *",$1,"* ]]; }

BENCH_NAME=python-bench
# shellcheck source=bench/common.sh
source bench/common.sh

WORK=$REPO/bench/work
REPORT=$WORK/python-bench-last.txt
PYBENCH=$REPO/bench/python/pybench.py
PY=${PYTHON:-$REPO/target/pyenv/bin/python}
LIST_COUNT=50
mkdir -p "$WORK"
T=$(mktemp -d "$WORK/python-bench.XXXXXX")
: >"$T/results"

# ---------------------------------------------------------------- cleanup
HARNESS_DIR=
SOCK=
LABEL=berth-python-bench=$$
DOCKER=()
cleanup() {
    set +e
    if [ -n "$SOCK" ] && [ ${#DOCKER[@]} -gt 0 ] && [ -S "$SOCK" ]; then
        local ids
        ids=$("${DOCKER[@]}" ps -aq --filter "label=$LABEL" 2>/dev/null)
        # shellcheck disable=SC2086 # IDs, one a line
        [ -n "$ids" ] && "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
    fi
    if [ -n "$HARNESS_DIR" ]; then
        log "stopping the test harness ($HARNESS_DIR)"
        bash tests/harness/down.sh "$HARNESS_DIR" >&2
    fi
    rm -rf "$T" "${XTMP_OWN:-}"
    [ -n "${BENCH_TMP_MADE:-}" ] && rmdir "$BENCH_TMP_MADE" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
[ -x "$PY" ] || die "no interpreter $PY (set PYTHON=..., or make the venv: python3 -m venv target/pyenv)"
if [ "$REINSTALL" = 1 ] || ! "$PY" -c 'import berth' 2>/dev/null; then
    log "installing the berth package: $PY -m pip install ./bindings/python (builds it with cargo)"
    "$PY" -m pip install -q ./bindings/python >&2
fi
"$PY" -c 'import berth' || die "$PY cannot import berth"
[ -x /usr/bin/time ] || apt_install time

DPY=
if has list; then
    if "$PY" -c 'import docker' 2>/dev/null; then
        DPY=$PY
    else
        venv=$WORK/python-bench-docker-py-venv
        if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import docker' 2>/dev/null; }; then
            # The same CPython as the berth side, so the two differ only in the library.
            base=$("$PY" -c 'import sys; print(sys._base_executable)')
            log "making $venv ($base) with docker-py from PyPI"
            rm -rf "$venv"
            "$base" -m venv "$venv" >&2
            "$venv/bin/python" -m pip install -q docker >&2
        fi
        DPY=$venv/bin/python
    fi
fi

# ---------------------------------------------------------------- helpers
record() { printf '%s\t%s\n' "$1" "$2" >>"$T/results"; } # record KEY VALUE
since_ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; } # value KEY FILE: of "key value" lines

# ---------------------------------------------------------------- read job setup
if has read; then
    ARCHIVE=${ARCHIVE:-$WORK/debian.oci.tar}
    TAG=${TAG:-bookworm}
    if [ ! -f "$ARCHIVE" ]; then
        log "no $ARCHIVE: bash bench/build-debian-image.sh (debootstrap; slow the first time)"
        bash bench/build-debian-image.sh >&2
    fi
    [ -f "$ARCHIVE" ] || die "no image at $ARCHIVE; run: bash bench/build-debian-image.sh"
    ARCHIVE=$(cd "$(dirname "$ARCHIVE")" && pwd)/$(basename "$ARCHIVE")
    if [ -n "${BENCH_TMP:-}" ]; then
        [ -e "$BENCH_TMP" ] || BENCH_TMP_MADE=$BENCH_TMP
        mkdir -p "$BENCH_TMP"
        XTMP=$(mktemp -d "$BENCH_TMP/python-bench.XXXXXX")
        XTMP_OWN=$XTMP
    else
        XTMP=$T
    fi
    XTMP_FS=$(df -PT "$XTMP" | awk 'NR == 2 { print $2 }')
fi

# ---------------------------------------------------------------- header
git_rev="$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- core ffi bindings 2>/dev/null && [ -z "$(git status --porcelain -- bindings 2>/dev/null)" ] || echo '+changes')"
berth_py=$("$PY" -c 'import berth, os, time; print(berth.__version__, "installed", time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(berth._native.__file__))))')
{
    echo "== berth python-bench  $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2/1048576 }' /proc/meminfo), kernel $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "python: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY); berth package $berth_py; tree $git_rev"
    if has list; then
        echo "docker-py: $("$DPY" -c 'import docker; print(docker.__version__)') ($DPY)"
    fi
    echo "runs: $RUNS per contender after a warm-up, interleaved (order alternating); medians"
} | tee "$REPORT"

# ---------------------------------------------------------------- job: read
if has read; then
    {
        echo "read job: $ARCHIVE ($TAG): $("$PY" "$REPO/bench/ocihelp.py" sizes "$WORK/debian-layout" "$TAG" 2>/dev/null | awk '$1 == "total" { print $2, $3, "compressed,", $4, $5, "uncompressed" }')"
        echo "  each run a fresh python process; the archive in the page cache (warm); tarfile extract unpacks to $XTMP ($XTMP_FS)"
    } | tee -a "$REPORT"

    read_cmd() { # read_cmd VARIANT [VERIFY-FILE]: CMD for it (and DEST for extract)
        local verify=()
        [ -n "${2:-}" ] && verify=(--verify "$2")
        DEST=
        case $1 in
            berth) CMD=("$PY" "$PYBENCH" read-berth "$ARCHIVE" "$TAG" "${verify[@]}") ;;
            tarfile) CMD=("$PY" "$PYBENCH" read-tarfile "$ARCHIVE" "$TAG" "${verify[@]}") ;;
            extract)
                DEST=$(mktemp -d "$XTMP/extract.XXXXXX")
                CMD=("$PY" "$PYBENCH" read-extract "$ARCHIVE" "$TAG" "$DEST" "${verify[@]}") ;;
            berth-again) CMD=("$PY" "$PYBENCH" read-berth-again "$ARCHIVE" "$TAG") ;;
            inflate) CMD=("$PY" "$PYBENCH" ref-inflate "$ARCHIVE" "$TAG") ;;
            startup) CMD=("$PY" -c pass) ;;
            startup-berth) CMD=("$PY" -c 'import berth') ;;
        esac
    }
    done_dest() { # the extract variant's tree goes, untimed, and its writes reach the disk
        if [ -n "$DEST" ]; then
            rm -rf "$DEST"
            sync
        fi
    }

    log "read: warm-up, and the check that berth, tarfile read and tarfile extract see the same tree"
    for v in berth tarfile extract; do
        read_cmd "$v" "$T/tree.$v"
        "${CMD[@]}" >"$T/warm.$v" || die "read: $v failed"
        done_dest
    done
    for v in tarfile extract; do
        if ! cmp -s "$T/tree.berth" "$T/tree.$v"; then
            log "error: berth's tree and $v's differ (path, size, sha256 of every regular file):"
            diff "$T/tree.berth" "$T/tree.$v" | head -20 >&2
            exit 1
        fi
    done
    FILES=$(value files "$T/warm.berth") BYTES=$(value bytes "$T/warm.berth")
    if [ "$(value files "$T/warm.extract") $(value bytes "$T/warm.extract")" != "$FILES $BYTES" ]; then
        die "read: berth read $FILES files, $BYTES bytes; the extracted tree has $(value files "$T/warm.extract") files, $(value bytes "$T/warm.extract") bytes"
    fi
    TF_FILES=$(value files "$T/warm.tarfile") TF_BYTES=$(value bytes "$T/warm.tarfile")
    echo "  check: the merged tree is the same for all three: $FILES regular files, $BYTES bytes (path, size, sha256 of each)" | tee -a "$REPORT"
    for v in berth-again inflate startup startup-berth; do
        read_cmd "$v"
        "${CMD[@]}" >/dev/null || die "read: $v failed"
    done

    VARIANTS=(berth tarfile extract berth-again inflate startup startup-berth)
    for i in $(seq "$RUNS"); do
        log "read: $i/$RUNS"
        order=("${VARIANTS[@]}")
        if ((i % 2 == 0)); then # the other way round every other run
            order=()
            for ((k = ${#VARIANTS[@]} - 1; k >= 0; k--)); do order+=("${VARIANTS[k]}"); done
        fi
        for v in "${order[@]}"; do
            read_cmd "$v"
            t0=$EPOCHREALTIME
            "${CMD[@]}" >"$T/out" || die "read: $v failed"
            record "read/$v/proc_ms" "$(since_ms "$t0")"
            done_dest
            while read -r k val; do
                [[ $val =~ ^[0-9.]+$ ]] && record "read/$v/$k" "$val"
            done <"$T/out"
            case $v in
                berth|berth-again|extract) want="$FILES $BYTES" ;;
                tarfile) want="$TF_FILES $TF_BYTES" ;;
                *) continue ;;
            esac
            got="$(value files "$T/out") $(value bytes "$T/out")"
            [ "$got" = "$want" ] || die "read: $v read $got (files bytes), expected $want"
        done
    done
fi

# ---------------------------------------------------------------- job: list
if has list; then
    if [ -z "${BERTH_TEST_DOCKER:-}" ]; then
        log "list: starting the test harness (tests/harness/up.sh; its log follows)"
        rc=0
        env_file=$(bash tests/harness/up.sh) || rc=$?
        [ "$rc" = 77 ] && die "the test harness cannot run here (up.sh skipped: see above)"
        [ "$rc" = 0 ] || die "tests/harness/up.sh failed (status $rc)"
        HARNESS_DIR=$(dirname "$env_file")
        set -a
        # shellcheck source=/dev/null
        . "$env_file"
        set +a
    fi
    SOCK=${BERTH_TEST_DOCKER#docker://}
    [ -S "$SOCK" ] || die "BERTH_TEST_DOCKER=$BERTH_TEST_DOCKER is not a socket"
    BUSYBOX=${BERTH_TEST_IMAGE:-example.com/busybox:latest}
    unset DOCKER_HOST DOCKER_CONTEXT DOCKER_API_VERSION DOCKER_TLS_VERIFY DOCKER_CERT_PATH
    export DOCKER_CONFIG=$T/docker-config
    mkdir -p "$DOCKER_CONFIG"
    DOCKER=(/usr/bin/docker -H "unix://$SOCK")
    before=$("${DOCKER[@]}" ps -aq | wc -l)
    log "list: creating $LIST_COUNT stopped containers of $BUSYBOX (label $LABEL)"
    for i in $(seq "$LIST_COUNT"); do
        "${DOCKER[@]}" create --network none --label "$LABEL" --name "berth-pybench-$$-$i" "$BUSYBOX" true >/dev/null
    done
    expected=$((before + LIST_COUNT))
    echo "list job: dockerd $("${DOCKER[@]}" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') on $SOCK, $expected containers (all stopped); both clients warm, in two processes" | tee -a "$REPORT"
    log "list: warm-up and $RUNS runs"
    "$PY" "$PYBENCH" list "$SOCK" "$RUNS" "$expected" "$DPY" >"$T/list.out"
    record list/count "$expected"
    while read -r k val; do record "list/$k" "$val"; done <"$T/list.out"
    ids=$("${DOCKER[@]}" ps -aq --filter "label=$LABEL")
    # shellcheck disable=SC2086 # IDs, one a line
    [ -z "$ids" ] || "${DOCKER[@]}" rm -f $ids >/dev/null
    if [ -n "$HARNESS_DIR" ]; then
        log "stopping the test harness"
        bash tests/harness/down.sh "$HARNESS_DIR" >&2
        HARNESS_DIR=
    fi
    SOCK=
fi

# ---------------------------------------------------------------- report
{
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    "$PY" "$PYBENCH" report "$T/results" "$RUNS"
} | tee -a "$REPORT"
log "report saved to $REPORT"
