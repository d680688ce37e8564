#!/usr/bin/env bash
# Benchmark: reading an image's files with berth vs. unpacking it (umoci unpack, GNU tar).
#
#   bash bench/fs-bench.sh [-n N] [--jobs list-tree,read-one,read-all] [--tools berth,umoci,gnu-tar]
#                          [--no-decompress]
#
# Needs the image from bench/build-debian-image.sh. Environment:
#   BERTH      berth binary (default: <repo>/target/release/berth, built with
#              `cargo build --release -p berth-cli` when BERTH is not set)
#   LAYOUT     OCI layout  (default bench/work/debian-layout)
#   ARCHIVE    oci-archive (default bench/work/debian.oci.tar), TAG (default bookworm)
#   BENCH_TMP  where unpacked trees go (default bench/work; it is removed afterwards)
#
# Jobs (each tool: one untimed warm-up, then N timed runs, interleaved; median wall time and
# peak RSS from /usr/bin/time -f '%M'; page cache is not dropped):
#   list-tree  berth ls -R --json | umoci unpack + find | GNU tar extract (whiteouts applied) + find
#   read-one   berth cat /etc/os-release | umoci unpack + cat | tar -xzOf <base layer> usr/lib/os-release
#   read-all   berth ls -R --json --hash | umoci unpack + sha256sum every file | tar extract + same
#   reference  gzip -dc / pigz -dc of all layer blobs to /dev/null
set -euo pipefail
export LC_ALL=C

N=5
JOBS=list-tree,read-one,read-all
TOOLS=berth,umoci,gnu-tar
DECOMPRESS=1
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N=$2; shift ;;
        -n*) N=${1#-n} ;;
        --jobs) JOBS=$2; shift ;;
        --tools) TOOLS=$2; shift ;;
        --no-decompress) DECOMPRESS=0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK=$BENCH_DIR/work
HELP="python3 $BENCH_DIR/ocihelp.py"
LAYOUT=${LAYOUT:-$WORK/debian-layout}
ARCHIVE=${ARCHIVE:-$WORK/debian.oci.tar}
TAG=${TAG:-bookworm}

has() { [[ ",$2," == *",$1,"* ]]; }

BENCH_NAME=fs-bench
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# ---------------------------------------------------------------- tools
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
command -v gzip >/dev/null || need+=(gzip)
command -v pigz >/dev/null || need+=(pigz)
command -v find >/dev/null || need+=(findutils)
tar --version 2>/dev/null | grep 'GNU tar' >/dev/null || need+=(tar)
if has umoci "$TOOLS"; then command -v umoci >/dev/null || need+=(umoci); fi
if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    apt_install "${need[@]}"
fi

[ -f "$LAYOUT/index.json" ] && [ -f "$ARCHIVE" ] || \
    die "no image at $LAYOUT / $ARCHIVE; run: bash bench/build-debian-image.sh"
case "$ARCHIVE" in /*) ;; *) ARCHIVE=$(cd "$(dirname "$ARCHIVE")" && pwd)/$(basename "$ARCHIVE") ;; esac

if has berth "$TOOLS"; then
    if [ -z "${BERTH:-}" ]; then
        BERTH=$REPO_ROOT/target/release/berth
        CARGO=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
        log "building berth: cargo build --release -p berth-cli"
        if ! (cd "$REPO_ROOT" && "$CARGO" build --release -p berth-cli >&2); then
            log "WARNING: cargo build failed; berth is left out of this run"
            TOOLS=$(echo ",$TOOLS," | sed 's/,berth,/,/; s/^,//; s/,$//')
        fi
    fi
    if has berth "$TOOLS" && [ ! -x "$BERTH" ]; then
        die "BERTH=$BERTH is not an executable"
    fi
fi

# ---------------------------------------------------------------- image facts
mapfile -t BLOBS < <($HELP layers "$LAYOUT" "$TAG")
[ ${#BLOBS[@]} -gt 0 ] || die "no layers for $TAG in $LAYOUT"
for b in "${BLOBS[@]}"; do
    [ "$(head -c2 "$b" | od -An -tx1 | tr -d ' \n')" = 1f8b ] || die "layer $b is not gzip; this script handles gzip layers only"
done

BENCH_TMP=${BENCH_TMP:-$WORK}
mkdir -p "$BENCH_TMP"
T=$(mktemp -d "$BENCH_TMP/fs-bench.XXXXXX")
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
RESULTS=$T/results.tsv
: > "$RESULTS"
REPORT=$WORK/fs-bench-last.txt

# ---------------------------------------------------------------- GNU tar with whiteouts
# extract_layers DEST BLOB... : apply gzip'd OCI layers in order, like a container runtime would.
# For each layer: list it, delete from DEST what its .wh.NAME markers name, empty the directories
# that carry .wh..wh..opq, then extract the layer minus its markers.
extract_layers() {
    local dest=$1 blob name dir base
    shift
    mkdir -p "$dest"
    for blob in "$@"; do
        local -a gone=() opaque=()
        while IFS= read -r name; do
            name=${name#./}
            case "/$name/" in */../*) continue ;; esac  # never step outside DEST
            base=${name##*/}
            if [ "$base" = "$name" ]; then dir=.; else dir=${name%/*}; fi
            if [ "$base" = .wh..wh..opq ]; then
                opaque+=("$dest/$dir")
            else
                gone+=("$dest/$dir/${base#.wh.}")
            fi
        done < <(tar -tzf "$blob" --quoting-style=literal | grep -E '(^|/)\.wh\.[^/]*$' || true)
        if [ ${#opaque[@]} -gt 0 ]; then
            find "${opaque[@]}" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + 2>/dev/null || true
        fi
        if [ ${#gone[@]} -gt 0 ]; then
            rm -rf -- "${gone[@]}"
        fi
        tar -xzf "$blob" -C "$dest" --numeric-owner --exclude='.wh.*'
    done
}

umoci_list()  { umoci unpack --image "$LAYOUT:$TAG" "$1" >/dev/null && cd "$1/rootfs" && find .; }
umoci_cat()   { umoci unpack --image "$LAYOUT:$TAG" "$1" >/dev/null && cat "$1/rootfs$2"; }
umoci_read()  { umoci unpack --image "$LAYOUT:$TAG" "$1" >/dev/null && cd "$1/rootfs" && find . -type f -print0 | xargs -0 -r sha256sum; }
tar_list()    { local d=$1; shift; extract_layers "$d" "$@" && cd "$d" && find .; }
tar_read()    { local d=$1; shift; extract_layers "$d" "$@" && cd "$d" && find . -type f -print0 | xargs -0 -r sha256sum; }
export -f extract_layers umoci_list umoci_cat umoci_read tar_list tar_read
export LAYOUT TAG

# ---------------------------------------------------------------- timing
# measure JOB TOOL RUN OUT CMD... : run CMD under /usr/bin/time with stdout to OUT; record
# "job tool run wall rss status" (run 0 = warm-up, not recorded). Wall time is taken with
# $EPOCHREALTIME (time's %e only has 10 ms resolution). Returns CMD's status.
measure() {
    local job=$1 tool=$2 run=$3 out=$4 t0 t1 st=0 wall rss
    shift 4
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$T/time.out" "$@" >"$out" 2>"$T/stderr.$job.$tool" || st=$?
    t1=$EPOCHREALTIME
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    rss=$(awk 'END { print $2 }' "$T/time.out")
    if [ "$run" != 0 ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$job" "$tool" "$run" "$wall" "${rss:-0}" \
            "$([ $st = 0 ] && echo ok || echo fail)" >>"$RESULTS"
    fi
    return $st
}

D=$T/tree   # the unpack target of the umoci / GNU tar runs
fresh() { rm -rf "$D"; sync; }

# job_cmd JOB TOOL : print nothing, set CMD to the command array for that cell
job_cmd() {
    local job=$1 tool=$2
    case "$job/$tool" in
        list-tree/berth)   CMD=("$BERTH" --runtime "oci-archive://$ARCHIVE" ls -R --json "$TAG" /) ;;
        list-tree/umoci)   CMD=(bash -c 'umoci_list "$@"' _ "$D") ;;
        list-tree/gnu-tar) CMD=(bash -c 'tar_list "$@"' _ "$D" "${BLOBS[@]}") ;;
        read-one/berth)    CMD=("$BERTH" --runtime "oci-archive://$ARCHIVE" cat "$TAG" /etc/os-release) ;;
        read-one/umoci)    CMD=(bash -c 'umoci_cat "$@"' _ "$D" /etc/os-release) ;;
        read-one/gnu-tar)  CMD=(tar -xzOf "$OSREL_BLOB" "$OSREL_MEMBER") ;;
        read-all/berth)    CMD=("$BERTH" --runtime "oci-archive://$ARCHIVE" ls -R --json --hash "$TAG" /) ;;
        read-all/umoci)    CMD=(bash -c 'umoci_read "$@"' _ "$D") ;;
        read-all/gnu-tar)  CMD=(bash -c 'tar_read "$@"' _ "$D" "${BLOBS[@]}") ;;
        *) die "unknown job/tool $job/$tool" ;;
    esac
}

IFS=, read -r -a JOB_LIST <<<"$JOBS"
IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
for j in "${JOB_LIST[@]}"; do case "$j" in list-tree|read-one|read-all) ;; *) die "unknown job $j" ;; esac; done
for t in "${TOOL_LIST[@]}"; do case "$t" in berth|umoci|gnu-tar) ;; *) die "unknown tool $t" ;; esac; done

if has read-one "$JOBS" && has gnu-tar "$TOOLS"; then
    # Which layer holds the file /etc/os-release points to (../usr/lib/os-release)?
    # Resolved from the manifest, untimed.
    IFS=$'\t' read -r OSREL_BLOB OSREL_MEMBER < <($HELP find-member "$LAYOUT" "$TAG" /usr/lib/os-release) \
        || die "cannot find usr/lib/os-release in the image"
fi

# ---------------------------------------------------------------- header
{
    echo "== berth fs-bench  $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2/1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "unpack dir: $BENCH_TMP ($(df -T "$BENCH_TMP" | awk 'NR==2 { print $2 }'))"
    echo "tools: $(umoci --version 2>/dev/null | head -1); $(tar --version | head -1); gzip $(gzip --version | head -1 | awk '{print $2}'); $(pigz --version 2>&1 | head -1)"
    if has berth "$TOOLS"; then echo "berth: $BERTH"; fi
    echo "image: $ARCHIVE (tag $TAG, $(du -h "$ARCHIVE" | cut -f1))"
    echo "runs: $N per cell after one warm-up; page cache not dropped"
    echo
    echo "layers (base first):"
    $HELP sizes "$LAYOUT" "$TAG"
    echo
} | tee "$REPORT"

# ---------------------------------------------------------------- run
declare -A BROKEN=()
for job in "${JOB_LIST[@]}"; do
    log "job $job: warm-up"
    for tool in "${TOOL_LIST[@]}"; do
        job_cmd "$job" "$tool"
        fresh
        if ! measure "$job" "$tool" 0 "$T/out.$job.$tool" "${CMD[@]}"; then
            log "WARNING: $tool failed in $job (warm-up); its runs are recorded as FAIL. stderr:"
            head -n 20 "$T/stderr.$job.$tool" >&2
            BROKEN[$job/$tool]=1
        fi
    done
    fresh
    # Cross-checks on the warm-up output.
    case "$job" in
        list-tree|read-all)
            if [ -f "$T/out.$job.umoci" ] && [ -f "$T/out.$job.gnu-tar" ] && \
               [ -z "${BROKEN[$job/umoci]:-}${BROKEN[$job/gnu-tar]:-}" ]; then
                if cmp -s <(sort "$T/out.$job.umoci") <(sort "$T/out.$job.gnu-tar"); then
                    log "check $job: umoci and gnu-tar trees agree ($(wc -l <"$T/out.$job.umoci") lines)"
                else
                    log "WARNING: $job: umoci and gnu-tar trees differ:"
                    diff <(sort "$T/out.$job.umoci") <(sort "$T/out.$job.gnu-tar") | head -n 20 >&2 || true
                fi
            fi
            if [ -f "$T/out.$job.berth" ] && [ -z "${BROKEN[$job/berth]:-}" ]; then
                log "check $job: berth wrote $(wc -c <"$T/out.$job.berth") bytes, $(wc -l <"$T/out.$job.berth") lines"
            fi
            ;;
        read-one)
            ref=
            for tool in "${TOOL_LIST[@]}"; do
                [ -z "${BROKEN[$job/$tool]:-}" ] || continue
                if [ -z "$ref" ]; then ref=$tool; continue; fi
                if cmp -s "$T/out.$job.$ref" "$T/out.$job.$tool"; then
                    log "check $job: $tool output matches $ref"
                else
                    log "WARNING: $job: $tool output differs from $ref"
                fi
            done
            ;;
    esac
    rm -f "$T"/out.$job.*

    for run in $(seq 1 "$N"); do
        log "job $job: run $run/$N"
        for tool in "${TOOL_LIST[@]}"; do
            job_cmd "$job" "$tool"
            if [ -n "${BROKEN[$job/$tool]:-}" ]; then
                printf '%s\t%s\t%s\t0\t0\tfail\n' "$job" "$tool" "$run" >>"$RESULTS"
                continue
            fi
            fresh
            measure "$job" "$tool" "$run" /dev/null "${CMD[@]}" || \
                log "WARNING: $tool failed in $job run $run"
        done
    done
    fresh
done

if [ "$DECOMPRESS" = 1 ]; then
    log "reference: decompressing all layers"
    for tool in gzip pigz; do
        measure decompress "$tool" 0 /dev/null "$tool" -dc "${BLOBS[@]}" || true
        for run in $(seq 1 "$N"); do
            measure decompress "$tool" "$run" /dev/null "$tool" -dc "${BLOBS[@]}" || true
        done
    done
fi

$HELP table "$RESULTS" | tee -a "$REPORT"
cp "$RESULTS" "$WORK/fs-bench-last.tsv"
log "report saved to $REPORT (raw runs: $WORK/fs-bench-last.tsv)"
