#!/usr/bin/env bash
# Start the harness's daemons: containerd (plain, runc), a registry, a registry with basic
# auth, dockerd (on that containerd), Podman's API service; build the busybox image, import it
# into containerd, load it into dockerd and Podman, push it to the registries.
# Writes $BERTH_HARNESS_DIR/env (KEY=VALUE lines) and prints its path on stdout; all else goes
# to stderr. Stop everything with: bash tests/harness/down.sh "$(dirname ENV_FILE)".
#
# Exit status: 0 up; 1 failed (always under CI=true); 77 (HARNESS_SKIP) the daemons cannot
# run here and CI is not true: the caller may skip. Whatever it started is stopped on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

t0=$(date +%s%N)
give_up() { # give_up WHAT: stop what was started, fail (CI) or skip
  harness_stop_all
  if [[ ${CI:-} == true ]]; then
    _harness_log "FAILED: $1 (CI=true: a daemon that cannot start is a failure)"
    exit 1
  fi
  _harness_log "SKIP: $1 (under CI=true this fails)"
  exit "$HARNESS_SKIP"
}
trap 'harness_stop_all; exit 130' INT
trap 'harness_stop_all; exit 143' TERM
trap 'harness_stop_all; exit 129' HUP

harness_install_packages || give_up "installing the Debian packages"
harness_init || give_up "creating the harness directory"
h=$BERTH_HARNESS_DIR
namespace=default
image=example.com/busybox:latest

harness_start_containerd "$h/ctd" || give_up "containerd"
harness_start_registry "$h/reg" || give_up "docker-registry"
harness_start_registry "$h/rega" --auth || give_up "docker-registry with basic auth"
harness_start_dockerd "$h/docker" "$BERTH_TEST_CONTAINERD" || give_up "dockerd"
harness_start_podman "$h/podman" || give_up "podman system service"
harness_build_busybox_image "$h/img" busybox || give_up "building the busybox image"
tar=$h/img/busybox.oci.tar
harness_import_image "$BERTH_TEST_CONTAINERD" "$namespace" "$tar" "$image" || give_up "importing the image into containerd"
docker_tar=$(harness_docker_archive "$tar" "$image") || give_up "converting the image to a docker-archive"
harness_docker_load_image "$h/docker" "$tar" "$image" || give_up "loading the image into dockerd"
harness_podman_load_image "$h/podman" "$tar" "$image" || give_up "loading the image into podman"
pushed=$BERTH_TEST_REGISTRY/berth/busybox:v1
harness_push_image "$tar" "$pushed" || give_up "pushing the image to the registry"
harness_push_image "$tar" "$BERTH_TEST_REGISTRY_AUTH/berth/busybox:v1" ||
  give_up "pushing the image to the registry with basic auth"

env_file=$h/env
{
  printf '%s=%s\n' \
    BERTH_HARNESS_DIR "$h" \
    BERTH_TEST_CONTAINERD "$BERTH_TEST_CONTAINERD" \
    BERTH_TEST_NAMESPACE "$namespace" \
    BERTH_TEST_IMAGE "$image" \
    BERTH_TEST_RUNC_ROOT "$BERTH_TEST_RUNC_ROOT" \
    BERTH_TEST_SNAPSHOTTER "$BERTH_TEST_SNAPSHOTTER" \
    CONTAINERD_SNAPSHOTTER "$BERTH_TEST_SNAPSHOTTER" \
    BERTH_TEST_REGISTRY "$BERTH_TEST_REGISTRY" \
    BERTH_TEST_REGISTRY_IMAGE "$pushed" \
    BERTH_TEST_REGISTRY_AUTH "$BERTH_TEST_REGISTRY_AUTH" \
    BERTH_TEST_REGISTRY_USER "$BERTH_TEST_REGISTRY_USER" \
    BERTH_TEST_REGISTRY_PASSWORD "$BERTH_TEST_REGISTRY_PASSWORD" \
    BERTH_TEST_DOCKER "$BERTH_TEST_DOCKER" \
    BERTH_TEST_DOCKER_ROOT "$BERTH_TEST_DOCKER_ROOT" \
    BERTH_TEST_PODMAN "$BERTH_TEST_PODMAN" \
    BERTH_TEST_PODMAN_ROOT "$BERTH_TEST_PODMAN_ROOT" \
    BERTH_TEST_BUSYBOX_TAR "$tar" \
    BERTH_TEST_BUSYBOX_DOCKER_TAR "$docker_tar"
} >"$env_file.part"
mv "$env_file.part" "$env_file"
trap - INT TERM HUP
_harness_log "up in $(((($(date +%s%N) - t0) / 1000000))) ms: $h"
printf '%s\n' "$env_file"
