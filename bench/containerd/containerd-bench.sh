#!/usr/bin/env bash
# containerd: berth against ctr, in one run, on the test harness' containerd.
#   bash bench/containerd/containerd-bench.sh [-n RUNS]
# - run-to-completion of busybox `true`: berth (create + start + wait + delete) vs
#   `ctr run --rm`;
# - exec latency of `true` in a running container: berth vs `ctr task exec`.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=20
[[ ${1:-} == -n ]] && runs=${2:?-n needs a number}

if [[ -z ${BERTH_TEST_CONTAINERD:-} ]]; then
  exec bash tests/harness/with-daemons.sh bash "$0" "$@"
fi
cargo build -q --release --locked -p berth-core --features containerd --example containerd_bench
sock=$BERTH_TEST_CONTAINERD
runc=$BERTH_TEST_RUNC_ROOT
image=$BERTH_TEST_IMAGE
endpoint="containerd://$sock?namespace=default&runc_root=$runc"
ctr=(ctr --address "$sock" -n default)

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }

# ctr run --rm, the same way berth runs it (its own runc root, busybox `true`).
"${ctr[@]}" run --rm --runc-root "$runc" "$image" ctr-warmup /bin/true
ctr_run=$(for i in $(seq "$runs"); do
  t0=$(now_ms); "${ctr[@]}" run --rm --runc-root "$runc" "$image" "ctr-run-$i" /bin/true; t1=$(now_ms)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }'
done | median)

"${ctr[@]}" run -d --runc-root "$runc" "$image" ctr-exec /bin/sleep 600 >/dev/null
"${ctr[@]}" task exec --exec-id warm ctr-exec /bin/true
ctr_exec=$(for i in $(seq "$runs"); do
  t0=$(now_ms); "${ctr[@]}" task exec --exec-id "e$i" ctr-exec /bin/true; t1=$(now_ms)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }'
done | median)
"${ctr[@]}" task kill -s KILL ctr-exec >/dev/null; sleep 0.3
"${ctr[@]}" task delete ctr-exec >/dev/null 2>&1 || true
"${ctr[@]}" container delete ctr-exec >/dev/null 2>&1 || true

out=$(target/release/examples/containerd_bench "$endpoint" "$image" "$runs")
berth_run=$(awk '/run_true_ms/ { print $2 }' <<<"$out")
berth_exec=$(awk '/exec_true_ms/ { print $2 }' <<<"$out")

echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); containerd $(containerd --version | awk '{ print $3 }'), runc $(runc --version | awk 'NR == 1 { print $3 }'); $runs runs, medians"
awk -v br="$berth_run" -v cr="$ctr_run" -v be="$berth_exec" -v ce="$ctr_exec" 'BEGIN {
  printf "%-36s %10s %10s %12s\n", "job", "berth", "ctr", "berth/ctr"
  printf "%-36s %7.1f ms %7.1f ms %11.2fx\n", "run busybox true (create..delete)", br, cr, br / cr
  printf "%-36s %7.1f ms %7.1f ms %11.2fx\n", "exec true in a running container", be, ce, be / ce
}'
