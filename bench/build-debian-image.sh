#!/usr/bin/env bash
# Build a realistic Debian bookworm OCI image (Debian packages only) for bench/fs-bench.sh.
#
#   bash bench/build-debian-image.sh [--force] [--refetch]
#
# Output, all under bench/work/ (gitignored):
#   debian-layout/     OCI image layout, tag "bookworm" (org.opencontainers.image.ref.name=bookworm,
#                      io.containerd.image.name=bench/debian:bookworm)
#   debian.oci.tar     the same layout as an oci-archive (tar -C debian-layout -cf debian.oci.tar .)
# Caches:
#   debootstrap-bookworm-minbase.debs.tgz   the .debs (debootstrap --make-tarball)
#   rootfs-bookworm-minbase.tar             the finished debootstrap rootfs
#
# Layers:
#   0  debootstrap --variant=minbase bookworm            (umoci repack)
#   1  rm -rf /usr/share/doc/* /usr/share/man           (umoci repack: individual .wh. whiteouts)
#   2  /etc/apt replaced by new contents                 (hand-made with GNU tar: etc/apt/.wh..wh..opq,
#                                                         added with umoci raw add-layer)
#
# Without --force, an existing image is kept and an existing rootfs cache skips debootstrap.
# --force rebuilds the rootfs (debootstrap again, from the cached .debs) and the image.
# --refetch also downloads the .debs again.
# MIRROR=... overrides the Debian mirror (default: the one apt is configured with).
set -euo pipefail

SUITE=bookworm
TAG=bookworm
IMAGE_NAME=bench/debian:bookworm

FORCE=0
REFETCH=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --refetch) FORCE=1; REFETCH=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$BENCH_DIR/work
HELP="python3 $BENCH_DIR/ocihelp.py"
LAYOUT=$WORK/debian-layout
ARCHIVE=$WORK/debian.oci.tar
DEBS_TGZ=$WORK/debootstrap-$SUITE-minbase.debs.tgz
ROOTFS_TAR=$WORK/rootfs-$SUITE-minbase.tar


BENCH_NAME=build-debian-image
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# ---------------------------------------------------------------- tools
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v umoci >/dev/null || need+=(umoci)
command -v python3 >/dev/null || need+=(python3)
command -v gzip >/dev/null || need+=(gzip)
tar --version 2>/dev/null | grep 'GNU tar' >/dev/null || need+=(tar)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    apt_install "${need[@]}"
fi
[ "$(id -u)" = 0 ] || die "debootstrap and umoci (preserving ownership) need root"

mkdir -p "$WORK"

print_sizes() {
    log "image: $LAYOUT (tag $TAG), archive: $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1))"
    echo "layers of $TAG (base first):"
    $HELP sizes "$LAYOUT" "$TAG"
}

if [ "$FORCE" = 0 ] && [ -f "$ARCHIVE" ] && [ -f "$LAYOUT/index.json" ] && \
   grep "\"$TAG\"" "$LAYOUT/index.json" >/dev/null; then
    log "image already built (use --force to rebuild)"
    print_sizes
    exit 0
fi

# ---------------------------------------------------------------- debootstrap (cached)
SCRATCH=$(mktemp -d "$WORK/build.XXXXXX")
cleanup() {
    # debootstrap mounts proc/sys inside the target; make sure nothing stays mounted.
    if [ -n "${SCRATCH:-}" ] && [ -d "$SCRATCH" ]; then
        { grep -o " $SCRATCH/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
        rm -rf "$SCRATCH"
    fi
}
trap cleanup EXIT

if [ "$FORCE" = 1 ] || [ ! -f "$ROOTFS_TAR" ]; then
    MIRROR=${MIRROR:-$($HELP mirror "$SUITE")} || die "cannot find a Debian mirror for $SUITE in /etc/apt; set MIRROR="
    log "mirror: $MIRROR"
    if [ "$REFETCH" = 1 ] || [ ! -f "$DEBS_TGZ" ]; then
        log "downloading .debs (debootstrap --make-tarball) ..."
        rm -f "$SCRATCH/debs.tgz"
        debootstrap --variant=minbase --make-tarball="$SCRATCH/debs.tgz" "$SUITE" "$SCRATCH/dl" "$MIRROR" >&2
        mv "$SCRATCH/debs.tgz" "$DEBS_TGZ"
        rm -rf "$SCRATCH/dl"
    fi
    log "debootstrap --variant=minbase $SUITE (from $DEBS_TGZ) ..."
    ROOT=$SCRATCH/rootfs
    debootstrap --variant=minbase --unpack-tarball="$DEBS_TGZ" "$SUITE" "$ROOT" "$MIRROR" >&2
    # Make it look like a container image: no device nodes, empty pseudo filesystems,
    # no downloaded package files.
    find "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/run" -mindepth 1 -xdev -delete 2>/dev/null || true
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin
    log "caching rootfs as $ROOTFS_TAR"
    tar --numeric-owner --xattrs --xattrs-include='*' --sort=name -C "$ROOT" -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$ROOT"
else
    log "using cached rootfs $ROOTFS_TAR (--force to debootstrap again)"
fi

# ---------------------------------------------------------------- image
log "building OCI layout $LAYOUT"
rm -rf "$LAYOUT" "$ARCHIVE"
B=$SCRATCH/bundle
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$TAG"
umoci config --image "$LAYOUT:$TAG" --no-history \
    --config.cmd /bin/bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.label "org.opencontainers.image.title=berth bench debian $SUITE"

# layer 0: the debootstrap rootfs
umoci unpack --image "$LAYOUT:$TAG" "$B" >&2
tar --numeric-owner --xattrs --xattrs-include='*' -C "$B/rootfs" -xpf "$ROOTFS_TAR"
umoci repack --refresh-bundle --image "$LAYOUT:$TAG" \
    --history.created_by "debootstrap --variant=minbase $SUITE" "$B" >&2

# layer 1: deletions (umoci emits a .wh.NAME whiteout per removed path)
rm -rf "$B"/rootfs/usr/share/doc/* "$B/rootfs/usr/share/man"
umoci repack --refresh-bundle --image "$LAYOUT:$TAG" \
    --history.created_by "rm -rf /usr/share/doc/* /usr/share/man" "$B" >&2

# layer 2: /etc/apt replaced wholesale. umoci repack would write one .wh. per removed file,
# so build the layer by hand with GNU tar around an opaque-directory marker.
S=$SCRATCH/layer2
mkdir -p "$S/etc"
cp -a "$B/rootfs/etc/apt" "$S/etc/apt"
rm -f "$S/etc/apt/sources.list"
mkdir -p "$S/etc/apt/sources.list.d" "$S/etc/apt/apt.conf.d"
cat > "$S/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat > "$S/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat > "$S/etc/apt/apt.conf.d/docker-no-recommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
: > "$S/etc/apt/.wh..wh..opq"
chown -R 0:0 "$S/etc"
chmod 0755 "$S/etc" "$S/etc/apt"
touch -r "$B/rootfs/etc" "$S/etc"
# Same member-name style as umoci's own layers (no "./" prefix), parents included.
tar --numeric-owner --sort=name -C "$S" -cf "$SCRATCH/layer2.tar" --no-recursion etc --recursion etc/apt
# (no grep -q on tar pipes: with pipefail an early-exiting grep makes tar fail with SIGPIPE)
tar -tf "$SCRATCH/layer2.tar" | grep -x 'etc/apt/.wh..wh..opq' >/dev/null || die "layer 2 lacks etc/apt/.wh..wh..opq"
umoci raw add-layer --image "$LAYOUT:$TAG" \
    --history.created_by "replace /etc/apt (opaque directory)" "$SCRATCH/layer2.tar" >&2

umoci gc --layout "$LAYOUT"
$HELP annotate "$LAYOUT" "$TAG" "$IMAGE_NAME"

# sanity: the top layer must carry the opaque marker
TOP=$($HELP layers "$LAYOUT" "$TAG" | tail -n1)
tar -tzf "$TOP" | grep -E '^(\./)?etc/apt/\.wh\.\.wh\.\.opq$' >/dev/null || die "top layer has no etc/apt/.wh..wh..opq"

log "writing $ARCHIVE"
tar -C "$LAYOUT" -cf "$ARCHIVE.tmp" .
mv "$ARCHIVE.tmp" "$ARCHIVE"

print_sizes
