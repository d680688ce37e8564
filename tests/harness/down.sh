#!/usr/bin/env bash
# Stop what up.sh started in DIR (default: $BERTH_HARNESS_DIR) and remove DIR.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
dir=${1:-${BERTH_HARNESS_DIR:-}}
[[ -n $dir ]] || { echo "usage: $0 DIR" >&2; exit 2; }
[[ -d $dir ]] || exit 0
BERTH_HARNESS_DIR=$(cd "$dir" && pwd)
harness_stop_all
