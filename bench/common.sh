# Helpers the bench scripts share; source it after setting BENCH_NAME.
log() { printf '[%s] %s\n' "$BENCH_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt_install PKG...: install with apt-get; run apt-get update only if the first try fails.
apt_install() {
    [ "$(id -u)" = 0 ] || die "need root to install: $*"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@"; then
        apt-get update
        apt-get install -y --no-install-recommends "$@"
    fi
}
