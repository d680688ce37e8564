#!/usr/bin/env bash
# with-daemons.sh CMD...: up.sh, then CMD with the harness's variables exported, then the
# teardown whatever happens. Exits with CMD's status (or up.sh's: 1, or 77 to skip outside
# CI). SIGINT, SIGTERM and SIGHUP are passed on to up.sh or CMD, then the teardown runs.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
(($#)) || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }

child=
# run ARGS...: run a child in the background (keeping our stdin) and wait for it, so that a
# signal reaches the trap at once instead of after the child ends.
run() {
  "$@" <&0 &
  child=$!
  wait "$child"
  local rc=$?
  child=
  return $rc
}
tree() { # tree PID: PID and its descendants
  local p
  echo "$1"
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$p"; done
}
pass_on() { # pass_on SIGNAL STATUS: to the child and its descendants (`sh -c` passes nothing on)
  if [[ -n $child ]]; then
    kill -"$1" $(tree "$child") 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  exit "$2"
}
trap 'rm -f "${out:-}"; harness_stop_all' EXIT
trap 'pass_on INT 130' INT
trap 'pass_on TERM 143' TERM
trap 'pass_on HUP 129' HUP

out=$(mktemp)
run bash "$here/up.sh" >"$out"
rc=$?
env_file=$(cat "$out")
rm -f "$out"
((rc == 0)) || exit $rc
BERTH_HARNESS_DIR=$(dirname "$env_file")
set -a
# shellcheck source=/dev/null
source "$env_file"
set +a
run "$@"
