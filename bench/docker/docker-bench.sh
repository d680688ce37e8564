#!/usr/bin/env bash
# Docker backend: berth against the docker CLI and docker-py, in one run, on the test
# harness' dockerd.
#
#   bash bench/docker/docker-bench.sh [-n RUNS] [--jobs list,run,exec,read] [--image NAME]
#                                     [--no-build]
#
# Jobs (medians of RUNS timed runs, default 20, after one untimed warm-up; the contenders of
# a job are interleaved run by run):
#   list  list 50 stopped busybox containers with a full inspect of each, in one warm Python
#         process: berth through libberth.so (ctypes: list, then open + inspect each) vs
#         docker-py's client.containers.list(all=True) (bench/docker/pybench.py)
#   run   busybox `true` to completion, network none: berth-core in a warm process
#         (core/examples/docker_bench.rs: create + start + wait + delete) vs
#         `docker run --rm --network none IMAGE true`
#   exec  `true` in a running busybox container: berth-core (warm) vs `docker exec`, and
#         libberth from Python vs docker-py's exec_run (one warm Python process)
#   read  /etc/os-release of a Debian image, each a cold process: `berth cat` with
#         ?image_fs=direct and ?image_fs=api vs docker create + docker cp -L + docker rm
# plus references that say where the time goes: the same list from Rust and with raw Engine
# API requests (one connection; four), berth's phases, the docker CLI's start-up, the
# Debian image on the direct path's fixed cost (busybox), a stat of every entry of the
# layer directories, and `docker save` alone.
#
# Without BERTH_TEST_DOCKER set, it runs itself under tests/harness/with-daemons.sh
# (dockerd 20.10 on containerd 1.6, overlay2). The docker CLI is Debian's /usr/bin/docker
# (DOCKER_CLI=... overrides it) on that socket, with an empty config dir.
# --image NAME: the image of the read job, already in dockerd (default: bench/debian:bookworm,
#   built by bench/build-debian-image.sh when bench/work/debian.oci.tar is missing, and loaded
#   into dockerd through a docker-archive).
# --no-build: use target/release/{berth,libberth.so,examples/docker_bench} as they are.
# PYTHON=...: the interpreter (default python3); docker-py is installed when it lacks it.
# Needs root (the direct path reads dockerd's layer directories). The report goes to stdout
# and bench/work/docker-bench-last.txt.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
REPO=$PWD

RUNS=20
JOBS=list,run,exec,read
IMAGE_READ=
BUILD=1
args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        -n) RUNS=${2:?-n needs a number}; shift ;;
        --jobs) JOBS=${2:?--jobs needs a list}; shift ;;
        --image) IMAGE_READ=${2:?--image needs an image name}; shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
for j in ${JOBS//,/ }; do
    case $j in list|run|exec|read) ;; *) echo "unknown job $j (list, run, exec, read)" >&2; exit 2 ;; esac
done
has() { [[ ",$JOBS," == *",$1,"* ]]; }

if [[ -z ${BERTH_TEST_DOCKER:-} ]]; then
    exec bash tests/harness/with-daemons.sh bash "$0" "${args[@]}"
fi

BENCH_NAME=docker-bench
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=tests/harness/lib.sh
source tests/harness/lib.sh

SOCK=$BERTH_TEST_DOCKER
[ -S "$SOCK" ] || die "BERTH_TEST_DOCKER=$SOCK is not a socket"
BUSYBOX=${BERTH_TEST_IMAGE:-example.com/busybox:latest}
LIST_COUNT=50
WORK=$REPO/bench/work
REPORT=$WORK/docker-bench-last.txt
mkdir -p "$WORK"
T=$(mktemp -d "$WORK/docker-bench.XXXXXX")
LABEL=berth-bench=$$

# The docker CLI on the harness' socket, nothing from the environment or ~/.docker.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_API_VERSION DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
DOCKER=("$DOCKER_CLI" -H "unix://$SOCK")

# ---------------------------------------------------------------- cleanup
SERVER_PIDS=()
EXEC_CID=
cleanup() {
    set +e
    local fd
    for fd in "${SERVER_FDS[@]:-}"; do [ -n "$fd" ] && eval "exec $fd>&-"; done
    for pid in "${SERVER_PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
    local ids
    ids=$("${DOCKER[@]}" ps -aq --filter "label=$LABEL" 2>/dev/null)
    # shellcheck disable=SC2086 # IDs, one a line
    [ -n "$ids" ] && "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
    # berth's run containers, if a run failed half-way (berth-bench-run-PID-N).
    ids=$("${DOCKER[@]}" ps -aq --filter "name=berth-bench-run-" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -n "$ids" ] && "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
    rm -rf "$T"
}
SERVER_FDS=()
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
need=()
[ -x "$DOCKER_CLI" ] || need+=(docker.io)
command -v skopeo >/dev/null || need+=(skopeo)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    apt_install "${need[@]}"
fi

if [ "$BUILD" = 1 ]; then
    log "building: cargo build --release -p berth-ffi -p berth-cli, and the docker_bench example"
    cargo build -q --release --locked -p berth-ffi -p berth-cli
    cargo build -q --release --locked -p berth-core --features docker --example docker_bench
fi
BERTH=$REPO/target/release/berth
LIBBERTH=$REPO/target/release/libberth.so
BERTH_BENCH=$REPO/target/release/examples/docker_bench
for f in "$BERTH" "$LIBBERTH" "$BERTH_BENCH"; do [ -x "$f" ] || die "missing $f (build it, or drop --no-build)"; done

# docker-py: the interpreter's own, else a venv in bench/work (kept for the next run), else
# pip --break-system-packages.
PY=${PYTHON:-python3}
if has list || has exec; then
    if ! "$PY" -c 'import docker' 2>/dev/null; then
        venv=$WORK/docker-py-venv
        if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import docker' 2>/dev/null; then
            PY=$venv/bin/python
        elif "$PY" -m venv "$venv" >&2 2>/dev/null || { rm -rf "$venv"; false; }; then
            log "installing docker-py into $venv"
            "$venv/bin/python" -m pip install -q docker >&2
            PY=$venv/bin/python
        else
            log "installing docker-py: pip install --break-system-packages docker"
            "$PY" -m pip install -q --break-system-packages docker >&2
        fi
    fi
    DOCKERPY_VERSION=$("$PY" -c 'import docker; print(docker.__version__)')
fi

# ---------------------------------------------------------------- helpers
now() { printf '%s\n' "$EPOCHREALTIME"; }
record() { printf '%s\t%s\n' "$1" "$2" >>"$T/results"; } # record NAME MS
: >"$T/results"
since_ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", (b - a) * 1000 }'; }

# start_server NAME CMD...: CMD in the background, its stdin and stdout on fifos; then
# `ask NAME LINE` sends LINE and reads one answer into REPLY.
declare -A SERVER_IN SERVER_OUT
start_server() {
    local name=$1
    shift
    mkfifo "$T/$name.in" "$T/$name.out"
    "$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
    SERVER_PIDS+=($!)
    local fin fout
    exec {fin}>"$T/$name.in" {fout}<"$T/$name.out"
    SERVER_IN[$name]=$fin SERVER_OUT[$name]=$fout
    SERVER_FDS+=("$fin" "$fout")
}
ask() {
    printf '%s\n' "$2" >&"${SERVER_IN[$1]}"
    if ! read -r REPLY <&"${SERVER_OUT[$1]}"; then
        log "error: $1 did not answer '$2'; its stderr:"
        cat "$T/$1.err" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------- header
load0=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "== berth docker-bench  $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2/1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "daemon: dockerd $("${DOCKER[@]}" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), storage driver $("${DOCKER[@]}" info --format '{{.Driver}}'), containerd $(containerd --version 2>/dev/null | awk '{ print $3 }'), runc $(runc --version 2>/dev/null | awk 'NR == 1 { print $3 }'); socket $SOCK"
    echo "docker CLI: $DOCKER_CLI $("$DOCKER_CLI" --version | sed 's/^Docker version //')"
    if has list || has exec; then
        echo "python: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY), docker-py $DOCKERPY_VERSION"
    fi
    echo "berth: $BERTH, $LIBBERTH, $BERTH_BENCH ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- core ffi cli 2>/dev/null || echo '+changes'))"
    echo "runs: $RUNS per contender after one warm-up, interleaved; medians; load average at start: $load0"
} | tee "$REPORT"

# ---------------------------------------------------------------- berth-core, warm
# The busybox container the exec job uses (the docker_bench example opens it at start).
if has list || has run || has exec; then
    EXEC_CID=$("${DOCKER[@]}" run -d --network none --label "$LABEL" --name "berth-bench-exec-$$" "$BUSYBOX" sleep 3600)
    start_server berth "$BERTH_BENCH" "docker://$SOCK" "$BUSYBOX" "$EXEC_CID"
fi

# ---------------------------------------------------------------- job: list
if has list; then
    LIST_LABEL=berth-bench-list=$$
    log "list: creating $LIST_COUNT stopped containers of $BUSYBOX (label $LIST_LABEL)"
    for i in $(seq "$LIST_COUNT"); do
        "${DOCKER[@]}" create --network none --label "$LABEL" --label "$LIST_LABEL" \
            --name "berth-bench-list-$$-$i" "$BUSYBOX" true >/dev/null
    done
    log "list: $RUNS runs from Python (berth, docker-py, raw API)"
    "$PY" bench/docker/pybench.py "$SOCK" "$LIBBERTH" list "$LIST_LABEL" "$LIST_COUNT" "$RUNS" >"$T/list.out"
    while read -r name value; do record "list/$name" "$value"; done <"$T/list.out"
    log "list: $RUNS runs from Rust (berth-core)"
    ask berth "list $LIST_LABEL"
    for i in $(seq "$RUNS"); do
        ask berth "list $LIST_LABEL"
        read -r _ total _ count _ <<<"$REPLY"
        [ "$count" = "$LIST_COUNT" ] || die "berth-core listed $count containers, expected $LIST_COUNT"
        record list/berth-core "$total"
    done
    ids=$("${DOCKER[@]}" ps -aq --filter "label=$LIST_LABEL")
    # shellcheck disable=SC2086
    "${DOCKER[@]}" rm -f $ids >/dev/null
fi

# ---------------------------------------------------------------- jobs: run, exec
if has run; then
    log "run: warm-up"
    "${DOCKER[@]}" run --rm --network none "$BUSYBOX" true
    ask berth run
    for i in $(seq "$RUNS"); do
        log "run: $i/$RUNS"
        t0=$(now)
        "${DOCKER[@]}" run --rm --network none "$BUSYBOX" true
        record run/docker "$(since_ms "$t0")"
        t0=$(now)
        "${DOCKER[@]}" container inspect --format '{{.Id}}' "$EXEC_CID" >/dev/null
        record run/docker-inspect "$(since_ms "$t0")"
        ask berth run
        read -r _ total _ create _ start _ wait _ delete <<<"$REPLY"
        record run/berth "$total"
        record run/berth-create "$create"
        record run/berth-start "$start"
        record run/berth-wait "$wait"
        record run/berth-delete "$delete"
    done
fi
if has exec; then
    start_server py "$PY" bench/docker/pybench.py "$SOCK" "$LIBBERTH" serve-exec "$EXEC_CID"
    log "exec: warm-up"
    "${DOCKER[@]}" exec "$EXEC_CID" true
    ask berth exec
    ask py exec
    for i in $(seq "$RUNS"); do
        log "exec: $i/$RUNS"
        t0=$(now)
        "${DOCKER[@]}" exec "$EXEC_CID" true
        record exec/docker "$(since_ms "$t0")"
        ask berth exec
        record exec/berth "${REPLY#exec }"
        ask py exec
        read -r _ bpy _ dpy <<<"$REPLY"
        record exec/berth-py "$bpy"
        record exec/docker-py "$dpy"
    done
fi

# ---------------------------------------------------------------- job: read
docker_cp_read() { # docker create + docker cp -L (a tar on stdout) + docker rm
    local cid
    cid=$("${DOCKER[@]}" create --network none --label "$LABEL" "$IMAGE_READ") || return 1
    "${DOCKER[@]}" cp -L "$cid:/etc/os-release" - || return 1
    "${DOCKER[@]}" rm "$cid" >/dev/null
}
if has read; then
    if [ -z "$IMAGE_READ" ]; then
        IMAGE_READ=bench/debian:bookworm
        if ! "${DOCKER[@]}" image inspect "$IMAGE_READ" >/dev/null 2>&1; then
            archive=$WORK/debian.oci.tar
            if [ ! -f "$archive" ]; then
                log "read: no $archive: bash bench/build-debian-image.sh (debootstrap; slow the first time)"
                bash bench/build-debian-image.sh >&2
            fi
            [ -n "${BERTH_HARNESS_DIR:-}" ] || die "loading $archive needs the harness (BERTH_HARNESS_DIR); or pass --image NAME"
            log "read: loading $archive into dockerd as $IMAGE_READ"
            harness_docker_load_image "$(dirname "$SOCK")" "$archive" "$IMAGE_READ" ||
                die "docker load of $archive failed"
        fi
    fi
    "${DOCKER[@]}" image inspect "$IMAGE_READ" >/dev/null || die "no image $IMAGE_READ in dockerd"
    image_facts=$("${DOCKER[@]}" image inspect --format '{{.Id}} {{len .RootFS.Layers}} layers, {{.Size}} bytes' "$IMAGE_READ")
    echo "read job image: $IMAGE_READ ($image_facts)" | tee -a "$REPORT"
    # The image's layer directories (overlay2), for the reference walk.
    layer_dirs=$("${DOCKER[@]}" image inspect --format '{{.GraphDriver.Data.UpperDir}}:{{.GraphDriver.Data.LowerDir}}' "$IMAGE_READ")
    IFS=: read -r -a LAYER_DIRS <<<"${layer_dirs%:}"
    entries=$(find "${LAYER_DIRS[@]}" | wc -l)
    echo "  its ${#LAYER_DIRS[@]} layer directories hold $entries entries (find | wc -l)" | tee -a "$REPORT"
    read_cmd() { # read_cmd TOOL: CMD for that contender
        case $1 in
            berth-direct) CMD=("$BERTH" -r "docker://$SOCK?image_fs=direct" cat "$IMAGE_READ" /etc/os-release) ;;
            berth-api) CMD=("$BERTH" -r "docker://$SOCK?image_fs=api" cat "$IMAGE_READ" /etc/os-release) ;;
            docker) CMD=(docker_cp_read) ;;
            # References: berth's direct path on the small busybox image; a walk with a stat
            # of every entry of the layer directories; `docker save` alone, to /dev/null.
            ref-berth-busybox) CMD=("$BERTH" -r "docker://$SOCK?image_fs=direct" cat "$BUSYBOX" /etc/passwd) ;;
            ref-walk) CMD=(find "${LAYER_DIRS[@]}" -printf '%y %m %U %G %s %T@ %l\n') ;;
            ref-save) CMD=(curl -sSf --unix-socket "$SOCK" -o /dev/null "http://docker/images/$IMAGE_READ/get") ;;
        esac
    }
    log "read: warm-up (and a check that all three read the same file)"
    for tool in berth-direct berth-api docker; do
        read_cmd "$tool"
        "${CMD[@]}" >"$T/read.$tool" || die "read: $tool failed"
    done
    tar -xOf "$T/read.docker" >"$T/read.docker.file"
    cmp -s "$T/read.berth-direct" "$T/read.docker.file" || die "read: berth (direct) and docker cp differ"
    cmp -s "$T/read.berth-api" "$T/read.docker.file" || die "read: berth (api) and docker cp differ"
    for tool in berth-direct berth-api; do
        read_cmd "$tool"
        /usr/bin/time -f '%M' -o "$T/rss.$tool" "${CMD[@]}" >/dev/null 2>&1 || true
        record "read/$tool-rss-kib" "$(tail -n1 "$T/rss.$tool")"
    done
    for tool in ref-berth-busybox ref-walk ref-save; do
        read_cmd "$tool"
        "${CMD[@]}" >/dev/null || die "read: $tool failed"
    done
    for i in $(seq "$RUNS"); do
        log "read: $i/$RUNS"
        for tool in berth-direct berth-api docker ref-berth-busybox ref-walk ref-save; do
            read_cmd "$tool"
            t0=$(now)
            "${CMD[@]}" >/dev/null
            record "read/$tool" "$(since_ms "$t0")"
        done
    done
fi

# ---------------------------------------------------------------- report
medians() {
    # Sorted by name, then value: each name's values are consecutive and in order.
    sort -t"$(printf '\t')" -k1,1 -k2,2g "$T/results" | awk -F'\t' '
        function flush() { if (c) print k, (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
        $1 != k { flush(); k = $1; c = 0 }
        { v[++c] = $2 }
        END { flush() }'
}
declare -A M
while read -r k v; do M[$k]=$v; done < <(medians)
row() { # row JOB BERTH-LABEL BERTH-KEY OTHER-LABEL OTHER-KEY GOAL
    local b=${M[$3]:-} o=${M[$5]:-}
    [ -n "$b" ] && [ -n "$o" ] || return 0
    awk -v j="$1" -v bl="$2" -v b="$b" -v ol="$4" -v o="$o" -v g="$6" 'BEGIN {
        printf "%-30s %-24s %9.1f ms  %-26s %9.1f ms %7.2fx  %s\n", j, bl, b, ol, o, b / o, g }'
}
ref() { # ref LABEL KEY
    [ -n "${M[$2]:-}" ] || return 0
    awk -v l="$1" -v v="${M[$2]}" 'BEGIN { printf "  %-62s %9.1f ms\n", l, v }'
}
verdict() { # verdict VALUE LIMIT: "met" or "missed"
    awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "met" : "missed" }'
}
{
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    printf '%-30s %-24s %12s  %-26s %12s %8s  %s\n' job berth time other time berth/other goal
    if has list; then
        row "list $LIST_COUNT + inspect each" "libberth from Python" list/berth_list_inspect_ms \
            "docker-py list(all=True)" list/dockerpy_list_inspect_ms \
            "berth <= 12 ms: $(verdict "${M[list/berth_list_inspect_ms]}" 12)"
    fi
    if has run; then
        row "run busybox true, rm" "berth-core (warm)" run/berth "docker run --rm" run/docker \
            "berth/docker <= 0.8x: $(verdict "$(awk -v b="${M[run/berth]}" -v d="${M[run/docker]}" 'BEGIN { print b / d }')" 0.8)"
    fi
    if has exec; then
        row "exec true" "berth-core (warm)" exec/berth "docker exec" exec/docker ""
        row "exec true, from Python" "libberth from Python" exec/berth-py "docker-py exec_run" exec/docker-py ""
    fi
    if has read; then
        row "read /etc/os-release, cold" "berth image_fs=direct" read/berth-direct "docker create+cp+rm" read/docker \
            "berth <= 30 ms: $(verdict "${M[read/berth-direct]}" 30)"
        row "read /etc/os-release, cold" "berth image_fs=api" read/berth-api "docker create+cp+rm" read/docker ""
    fi
    if has list || has run || has read; then echo; echo "references and parts (medians):"; fi
    if has list; then
        ref "list: berth-core from Rust (warm; no C ABI, no Python)" list/berth-core
        ref "list: raw Engine API from Python, 1 keep-alive connection" list/raw_list_inspect_ms
        ref "list: raw Engine API from Python, inspects on 4 connections" list/raw4_list_inspect_ms
        ref "list: berth's list call (libberth from Python)" list/berth_list_only_ms
        ref "list: berth's open_container, per container" list/berth_open_ms
        ref "list: berth's inspect (+ json.loads), per container" list/berth_inspect_ms
    fi
    if has run; then
        ref "run: berth's create (image list + POST /containers/create)" run/berth-create
        ref "run: berth's start" run/berth-start
        ref "run: berth's wait" run/berth-wait
        ref "run: berth's delete" run/berth-delete
        ref "run: docker CLI start-up + 1 request (docker container inspect)" run/docker-inspect
    fi
    if has read; then
        ref "read: berth image_fs=direct, busybox image, /etc/passwd" read/ref-berth-busybox
        ref "read: find -printf over the layer dirs (a stat of every entry)" read/ref-walk
        ref "read: docker save of the image to /dev/null (curl)" read/ref-save
        echo "  read: berth peak RSS: image_fs=direct ${M[read/berth-direct-rss-kib]} KiB, image_fs=api ${M[read/berth-api-rss-kib]} KiB"
    fi
} | tee -a "$REPORT"
log "report saved to $REPORT"
