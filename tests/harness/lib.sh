# shellcheck shell=bash
# berth's test harness: real daemons on private sockets under one temporary directory.
# Source this file, then call the functions below; README.md beside it explains the API.
# /work/shared/runtime-notes.md (in the project's notes) says why each option is here.
#
# Every function returns non-zero on failure (with the daemon's log printed to stderr) and
# never exits the caller's shell; harness_stop_all never fails.

# Debian packages the harness uses.
HARNESS_PACKAGES=(containerd runc docker-registry apache2-utils umoci busybox-static skopeo protobuf-compiler)
# ... and these, installed without their Recommends: docker.io's (needrestart, cgroupfs-mount,
# apparmor, git...) and podman's (buildah, fuse-overlayfs, slirp4netns, uidmap: rootless
# only) are of no use here. catatonit is one of podman's: podman builds the pods' infra
# ("pause") image from it, offline.
HARNESS_PACKAGES_NO_RECOMMENDS=(docker.io podman catatonit)
# Credentials of every registry started with --auth.
HARNESS_REGISTRY_USER=berth
HARNESS_REGISTRY_PASSWORD=berth-test
# Exit status meaning "the daemons could not be started here: skip" (never used under CI=true).
HARNESS_SKIP=77

_harness_log() { printf 'harness: %s\n' "$*" >&2; }

# _harness_fail MESSAGE [LOG]: report a failure, with the daemon's log; returns 1.
_harness_fail() {
  _harness_log "ERROR: $1"
  if [[ -n ${2:-} && -f $2 ]]; then
    printf -- '----- %s (last 60 lines) -----\n' "$2" >&2
    tail -n 60 "$2" >&2
    printf -- '----- end of %s -----\n' "$2" >&2
  fi
  return 1
}

# _harness_alive PID: the process exists and is not a zombie.
_harness_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# _harness_owns PID TEXT: PID is alive and its command line contains TEXT (guards against
# PID reuse: kernel.pid_max is 32768 on these machines).
_harness_owns() {
  _harness_alive "$1" || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$2"* ]]
}

# _harness_terminate PID [GRACE_SECONDS]: SIGTERM, wait, SIGKILL after the grace period.
_harness_terminate() {
  local pid=$1 grace=${2:-10} i
  _harness_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do
    _harness_alive "$pid" || break
    sleep 0.05
  done
  if _harness_alive "$pid"; then
    _harness_log "pid $pid ignored SIGTERM for ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do _harness_alive "$pid" || break; sleep 0.05; done
  fi
  wait "$pid" 2>/dev/null || true # reap it when it is this shell's child
  return 0
}

# _harness_spawn PIDFILE LOG CMD...: start CMD in the background in a session of its own (so a
# Ctrl-C or a signal to the test's process group leaves it to harness_stop_all's orderly
# teardown), output appended to LOG, its PID in PIDFILE (written by the process itself, which
# is right with or without job control).
_harness_spawn() {
  local pidfile=$1 log=$2 i
  shift 2
  rm -f "$pidfile"
  setsid bash -c 'echo $$ >"$0.part" && mv "$0.part" "$0" && exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$log" 2>&1 &
  for ((i = 0; i < 500; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.01
  done
  _harness_fail "$1 did not start" "$log"
}

# _harness_sub DIR: DIR made absolute, created, and checked to lie inside BERTH_HARNESS_DIR.
_harness_sub() {
  [[ -n ${BERTH_HARNESS_DIR:-} && -d $BERTH_HARNESS_DIR ]] ||
    { _harness_fail "call harness_init first"; return 1; }
  mkdir -p "$1" || return 1
  local abs
  abs=$(cd "$1" && pwd) || return 1
  [[ $abs == "$BERTH_HARNESS_DIR"/* ]] ||
    { _harness_fail "$1 is not inside BERTH_HARNESS_DIR ($BERTH_HARNESS_DIR)"; return 1; }
  printf '%s\n' "$abs"
}

# _harness_register KIND DIR: remember a daemon for harness_stop_all.
_harness_register() {
  grep -qxF "$1 $2" "$BERTH_HARNESS_DIR/daemons" 2>/dev/null ||
    printf '%s %s\n' "$1" "$2" >>"$BERTH_HARNESS_DIR/daemons"
}

# harness_install_packages [EXTRA...]: install the harness's Debian packages that are missing.
harness_install_packages() {
  local p missing=() missing_nr=()
  for p in "${HARNESS_PACKAGES[@]}" "$@"; do
    _harness_installed "$p" || missing+=("$p")
  done
  for p in "${HARNESS_PACKAGES_NO_RECOMMENDS[@]}"; do
    _harness_installed "$p" || missing_nr+=("$p")
  done
  ((${#missing[@]} + ${#missing_nr[@]})) || return 0
  _harness_log "installing $(printf '%s ' "${missing[@]}" "${missing_nr[@]}")"
  # A subshell, so the policy-rc.d we put in place goes even on failure or interrupt.
  # (docker-registry's package would start a system registry on :5000 without it, docker.io's
  # a system dockerd, containerd's a system containerd.)
  (
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
      trap 'rm -f "$policy"' EXIT
      trap 'exit 130' INT TERM
      printf '#!/bin/sh\n# put here by berth tests/harness during an install\nexit 101\n' >"$policy"
      chmod 755 "$policy"
    fi # else someone else's (a container image's) policy-rc.d: leave it alone
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q &&
      { ((${#missing[@]} == 0)) || apt-get install -y -q "${missing[@]}"; } &&
      { ((${#missing_nr[@]} == 0)) || apt-get install -y -q --no-install-recommends "${missing_nr[@]}"; }
  ) >&2
}

_harness_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# harness_init [DIR]: create the harness directory (a new short one under $TMPDIR or /tmp,
# or DIR) and export BERTH_HARNESS_DIR. Unix socket paths must stay under 108 bytes.
harness_init() {
  local dir
  if [[ -n ${1:-} ]]; then
    mkdir -p "$1" && dir=$(cd "$1" && pwd) || return 1
  else
    local base=${TMPDIR:-/tmp}
    # Long or odd TMPDIRs would break socket paths or the KEY=VALUE env file.
    if ((${#base} > 40)) || [[ ! $base =~ ^[A-Za-z0-9/._-]+$ ]] || [[ ! -d $base ]]; then base=/tmp; fi
    dir=$(mktemp -d "${base%/}/bh.XXXXXX") || return 1
  fi
  ((${#dir} <= 60)) || { _harness_fail "harness dir $dir is too long for unix sockets"; return 1; }
  chmod 711 "$dir"
  : >"$dir/.berth-harness" # marks it as ours: harness_stop_all removes only such a dir
  mkdir -p "$dir/tmp"
  export BERTH_HARNESS_DIR=$dir
}

# --- containerd ---------------------------------------------------------------------------

# harness_start_containerd DIR: a plain containerd (CRI disabled) on DIR/containerd.sock.
# Exports BERTH_TEST_CONTAINERD, BERTH_TEST_RUNC_ROOT and BERTH_TEST_SNAPSHOTTER.
harness_start_containerd() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_start_containerd DIR}") || return 1
  local sock=$dir/containerd.sock
  ((${#sock} + 6 < 108)) || { _harness_fail "$sock is too long for a unix socket"; return 1; }
  mkdir -p "$dir/root" "$dir/state" "$dir/runc" "$dir/opt"
  # containerd 1.6 honours, for the runc root:
  # - the CRI plugin's runtime options (CRI only; CRI is disabled in this instance, the key
  #   is here for the CRI flavour to come);
  # - runtime_root of the deprecated v1 linux runtime (io.containerd.runtime.v1.linux only);
  # - for io.containerd.runc.v2 (what ctr and every client uses) nothing on the server side:
  #   the client passes runc options with Root (ctr run --runc-root "$BERTH_TEST_RUNC_ROOT"),
  #   else runc state lands in the shared /run/containerd/runc/NAMESPACE/ID.
  cat >"$dir/containerd.toml" <<EOF
# written by berth tests/harness/lib.sh
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  level = "info"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$dir/opt"
  [plugins."io.containerd.runtime.v1.linux"]
    runtime_root = "$dir/runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    Root = "$dir/runc"
    SystemdCgroup = false
EOF
  _harness_register containerd "$dir"
  _harness_launch_containerd "$dir" || return 1
  export BERTH_TEST_CONTAINERD=$sock
  export BERTH_TEST_RUNC_ROOT=$dir/runc
  # overlayfs when it loads on this machine, else native; ctr reads CONTAINERD_SNAPSHOTTER.
  local snap=native
  if ctr --address "$sock" plugins ls 2>/dev/null |
    awk '$1 == "io.containerd.snapshotter.v1" && $2 == "overlayfs" && $NF == "ok" {f=1} END {exit !f}'; then
    snap=overlayfs
  fi
  export BERTH_TEST_SNAPSHOTTER=$snap CONTAINERD_SNAPSHOTTER=$snap
}

# _harness_launch_containerd DIR: start containerd with DIR/containerd.toml, wait for it.
_harness_launch_containerd() {
  local dir=$1 i
  _harness_spawn "$dir/containerd.pid" "$dir/containerd.log" containerd --config "$dir/containerd.toml" || return 1
  local pid
  pid=$(cat "$dir/containerd.pid")
  for ((i = 0; i < 400; i++)); do # 20 s
    if timeout 2 ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; then
      return 0
    fi
    _harness_alive "$pid" || { wait "$pid" 2>/dev/null || true; _harness_fail "containerd exited at start" "$dir/containerd.log"; return 1; }
    sleep 0.05
  done
  _harness_fail "containerd did not answer on $dir/containerd.sock within 20 s" "$dir/containerd.log"
}

# harness_restart_containerd DIR: stop that containerd (SIGTERM, SIGKILL after 10 s) and start
# it again with the same config. Shims, and so running tasks, live on across the restart.
harness_restart_containerd() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_restart_containerd DIR}") || return 1
  [[ -f $dir/containerd.toml ]] || { _harness_fail "no containerd was started in $dir"; return 1; }
  local pid
  pid=$(cat "$dir/containerd.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && _harness_owns "$pid" "$dir/containerd.toml"; then
    _harness_terminate "$pid" 10
  fi
  printf '=== restarted by the harness at %s ===\n' "$(date +%T.%N)" >>"$dir/containerd.log"
  _harness_launch_containerd "$dir"
}

# _harness_shims SOCK: PIDs of containerd shims whose -address is exactly SOCK.
_harness_shims() {
  local p args a prev
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
    ((${#args[@]})) && [[ ${args[0]##*/} == containerd-shim* ]] || continue
    prev=
    for a in "${args[@]}"; do
      if [[ ($prev == -address || $prev == --address) && $a == "$1" ]]; then
        printf '%s\n' "${p#/proc/}"
        break
      fi
      prev=$a
    done
  done
}

# _harness_stop_containerd DIR: end its tasks (through containerd while it answers, through
# runc after), stop it, then its leftover shims.
_harness_stop_containerd() {
  local dir=$1 sock=$1/containerd.sock pid ns id
  pid=$(cat "$dir/containerd.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && _harness_owns "$pid" "$dir/containerd.toml" &&
    timeout 5 ctr --address "$sock" version >/dev/null 2>&1; then
    for ns in $(timeout 10 ctr --address "$sock" namespaces ls -q 2>/dev/null); do
      for id in $(timeout 10 ctr --address "$sock" -n "$ns" tasks ls -q 2>/dev/null); do
        timeout 10 ctr --address "$sock" -n "$ns" tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
        timeout 15 ctr --address "$sock" -n "$ns" tasks delete -f "$id" >/dev/null 2>&1 || true
      done
    done
  fi
  [[ -n $pid ]] && _harness_owns "$pid" "$dir/containerd.toml" && _harness_terminate "$pid" 10
  # Whatever containerd could not clean: containers by their bundle, then the shims.
  # The runc root is the client's runc option (the shim keeps it in the bundle's options.json),
  # else the default /run/containerd/runc, shared with every other containerd: a container
  # there is removed only when its bundle is ours (not with the shim's own `delete`, which
  # would remove another instance's container of the same namespace and ID).
  local bundle root ref state
  for bundle in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
    [[ -d $bundle ]] || continue
    id=${bundle##*/} ns=${bundle%/*} ns=${ns##*/}
    root=$(grep -o '"root":"[^"]*"' "$bundle/options.json" 2>/dev/null) || root=
    root=${root#\"root\":\"} root=${root%\"}
    root=${root:-/run/containerd/runc}/$ns
    state=$(runc --root "$root" state "$id" 2>/dev/null) || continue
    [[ $state == *"\"bundle\": \"$bundle\""* ]] || continue
    _harness_log "removing leftover container $ns/$id (runc root $root)"
    runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
  for pid in $(_harness_shims "$sock"); do
    _harness_log "stopping leftover shim $pid"
    _harness_terminate "$pid" 3
  done
  for ref in "$dir"/state/io.containerd.runtime.v2.task/*/*/address; do
    [[ -f $ref ]] || continue
    ref=$(cat "$ref" 2>/dev/null) || continue
    ref=${ref#unix://}
    [[ $ref == /run/containerd/s/* && -S $ref ]] && rm -f "$ref"
  done
  return 0
}

# --- registry -----------------------------------------------------------------------------

_harness_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# _harness_wait_http URL CODE SECONDS PID: poll URL until it answers HTTP CODE; fail early
# when PID is gone.
_harness_wait_http() {
  python3 - "$@" <<'EOF'
import sys, time, urllib.request, urllib.error
url, want, deadline, pid = sys.argv[1], int(sys.argv[2]), time.time() + float(sys.argv[3]), sys.argv[4]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
while time.time() < deadline and alive():
    try:
        code = opener.open(url, timeout=1).status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception:
        code = None
    if code == want:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF
}

# harness_start_registry DIR [--auth]: docker-registry on 127.0.0.1:FREE_PORT, storage in DIR.
# Sets HARNESS_REGISTRY (its host:port) and exports BERTH_TEST_REGISTRY, or with --auth
# BERTH_TEST_REGISTRY_AUTH, BERTH_TEST_REGISTRY_USER and BERTH_TEST_REGISTRY_PASSWORD.
harness_start_registry() {
  local dir auth=0
  dir=$(_harness_sub "${1:?usage: harness_start_registry DIR [--auth]}") || return 1
  [[ ${2:-} == --auth ]] && auth=1
  mkdir -p "$dir/storage"
  local authconf= want=200
  if ((auth)); then
    htpasswd -Bbn "$HARNESS_REGISTRY_USER" "$HARNESS_REGISTRY_PASSWORD" >"$dir/htpasswd" || return 1
    authconf=$(printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$dir/htpasswd")
    want=401
  fi
  _harness_register registry "$dir"
  local try port pid
  for try in 1 2 3 4 5; do # the free port can be taken before the registry binds it
    port=$(_harness_free_port) || return 1
    cat >"$dir/config.yml" <<EOF
# written by berth tests/harness/lib.sh
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  secret: berth-harness-$port
$authconf
EOF
    _harness_spawn "$dir/registry.pid" "$dir/registry.log" docker-registry serve "$dir/config.yml" || return 1
    pid=$(cat "$dir/registry.pid")
    if _harness_wait_http "http://127.0.0.1:$port/v2/" "$want" 20 "$pid"; then
      HARNESS_REGISTRY=127.0.0.1:$port
      echo "$HARNESS_REGISTRY" >"$dir/address"
      if ((auth)); then
        export BERTH_TEST_REGISTRY_AUTH=$HARNESS_REGISTRY
        export BERTH_TEST_REGISTRY_USER=$HARNESS_REGISTRY_USER
        export BERTH_TEST_REGISTRY_PASSWORD=$HARNESS_REGISTRY_PASSWORD
      else
        export BERTH_TEST_REGISTRY=$HARNESS_REGISTRY
      fi
      return 0
    fi
    _harness_terminate "$pid" 3
    grep -q 'address already in use' "$dir/registry.log" || break
  done
  _harness_fail "docker-registry did not answer $want on http://127.0.0.1:$port/v2/" "$dir/registry.log"
}

# --- images -------------------------------------------------------------------------------

# harness_build_busybox_image OUTDIR NAME: OUTDIR/NAME.oci.tar, an oci-archive (tag latest)
# of one layer: /bin/busybox (busybox-static) and a /bin symlink for every applet.
harness_build_busybox_image() {
  local out=${1:?usage: harness_build_busybox_image OUTDIR NAME} name=${2:?usage: harness_build_busybox_image OUTDIR NAME}
  local bb
  bb=$(command -v busybox) || { _harness_fail "busybox is not installed (busybox-static)"; return 1; }
  mkdir -p "$out" || return 1
  local work
  work=$(mktemp -d "$out/.$name.XXXXXX") || return 1
  # A chain of &&, not set -e: set -e is off inside a function called from `if` or `||`.
  (
    r=$work/bundle/rootfs
    umoci init --layout "$work/layout" &&
      umoci new --image "$work/layout:latest" &&
      umoci unpack --image "$work/layout:latest" "$work/bundle" &&
      mkdir -p "$r/bin" "$r/etc" "$r/root" "$r/tmp" &&
      chmod 1777 "$r/tmp" &&
      cp "$bb" "$r/bin/busybox" &&
      # One perl (Essential in Debian) instead of ~270 ln processes: 0.5 s saved.
      "$bb" --list | perl -ne 'BEGIN { $d = shift } chomp; next if $_ eq "busybox";
        symlink("busybox", "$d/$_") or die "$d/$_: $!\n"' "$r/bin" &&
      printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd" &&
      printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group" &&
      umoci repack --image "$work/layout:latest" "$work/bundle" &&
      umoci config --image "$work/layout:latest" --tag latest \
        --config.cmd /bin/sh --config.env PATH=/bin --config.workingdir / &&
      umoci gc --layout "$work/layout" &&
      tar -C "$work/layout" -cf "$out/$name.oci.tar.part" . &&
      mv "$out/$name.oci.tar.part" "$out/$name.oci.tar"
  ) >"$work.log" 2>&1
  local rc=$?
  ((rc == 0)) || _harness_fail "building the busybox image failed" "$work.log"
  rm -rf "$work" "$work.log"
  return $rc
}

# harness_import_image SOCK NAMESPACE TAR NAME: import an oci-archive into containerd as
# NAME (REPO or REPO:TAG; default tag latest) and unpack it for $CONTAINERD_SNAPSHOTTER.
harness_import_image() {
  local sock=${1:?usage: harness_import_image SOCK NAMESPACE TAR NAME} ns=${2:?} tar=${3:?} name=${4:?}
  local repo=$name tag=latest
  if [[ ${name##*/} == *:* ]]; then repo=${name%:*} tag=${name##*:}; fi
  local c=(ctr --address "$sock" -n "$ns")
  local snap=${CONTAINERD_SNAPSHOTTER:-overlayfs}
  # umoci's index names the manifest "latest" (org.opencontainers.image.ref.name), so the
  # import gives REPO:latest; another tag is added after.
  local out
  out=$("${c[@]}" images import --base-name "$repo" --snapshotter "$snap" "$tar" 2>&1) ||
    { _harness_fail "ctr images import $tar failed: $out"; return 1; }
  if [[ $tag != latest ]]; then
    "${c[@]}" images tag --force "$repo:latest" "$repo:$tag" >/dev/null || return 1
  fi
  "${c[@]}" images ls -q | grep -qxF "$repo:$tag" ||
    { _harness_fail "after the import, $repo:$tag is not in: $("${c[@]}" images ls -q | tr '\n' ' ')"; return 1; }
  # import unpacks already; this makes sure (and is a no-op when done).
  "${c[@]}" images unpack --snapshotter "$snap" "$repo:$tag" >/dev/null 2>&1 || true
  "${c[@]}" images check --snapshotter "$snap" 2>/dev/null |
    awk -v r="$repo:$tag" '$1 == r && $4 == "complete" && $NF == "true" {f=1} END {exit !f}' ||
    { _harness_fail "$repo:$tag is not complete and unpacked in containerd"; return 1; }
}

# harness_push_image OCI_TAR REF: push an oci-archive to a harness registry (plain HTTP);
# credentials are added when REF is on the --auth registry (BERTH_TEST_REGISTRY_AUTH).
harness_push_image() {
  local tar=${1:?usage: harness_push_image OCI_TAR REF} ref=${2:?usage: harness_push_image OCI_TAR REF}
  local policy=$BERTH_HARNESS_DIR/skopeo-policy.json
  [[ -f $policy ]] || printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$policy"
  local creds=()
  if [[ -n ${BERTH_TEST_REGISTRY_AUTH:-} && $ref == "$BERTH_TEST_REGISTRY_AUTH"/* ]]; then
    creds=(--dest-creds "$HARNESS_REGISTRY_USER:$HARNESS_REGISTRY_PASSWORD")
  fi
  TMPDIR=$BERTH_HARNESS_DIR/tmp skopeo --policy "$policy" copy --quiet --dest-tls-verify=false \
    "${creds[@]}" "oci-archive:$tar" "docker://$ref" >&2 ||
    { _harness_fail "skopeo copy $tar docker://$ref failed"; return 1; }
}

# --- dockerd and podman: API daemons on unix sockets --------------------------------------

# _harness_wait_ping SOCK SECONDS PID: poll GET /_ping on the unix socket SOCK until it answers
# 200 "OK"; fail early when PID is gone.
_harness_wait_ping() {
  python3 - "$@" <<'PYEOF'
import http.client, socket, sys, time
path, deadline, pid = sys.argv[1], time.time() + float(sys.argv[2]), sys.argv[3]
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(path)
def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
while time.time() < deadline and alive():
    try:
        c = Conn("localhost", timeout=2)
        c.request("GET", "/_ping")
        r = c.getresponse()
        if r.status == 200 and r.read().strip() == b"OK":
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.05)
sys.exit(1)
PYEOF
}

# _harness_timeout: the `timeout SECONDS` prefix when HARNESS_TIMEOUT is set (the teardown sets
# it: a hung CLI must not hang harness_stop_all), else nothing (an interactive -it keeps its tty).
_harness_timeout() {
  HARNESS_TIMEOUT_ARGV=()
  [[ -n ${HARNESS_TIMEOUT:-} ]] && HARNESS_TIMEOUT_ARGV=(timeout -k 5 "$HARNESS_TIMEOUT")
  return 0
}

# harness_docker_archive OCI_TAR NAME: OCI_TAR converted to a docker-archive naming the image
# NAME (REPO:TAG, default tag latest), beside OCI_TAR (made once, then reused); prints its
# path. dockerd 20.10 cannot load an oci-archive, and `podman load` takes the name from a
# docker-archive's RepoTags (an umoci oci-archive would be named localhost/latest:latest).
harness_docker_archive() {
  local tar=${1:?usage: harness_docker_archive OCI_TAR NAME} name=${2:?usage: harness_docker_archive OCI_TAR NAME}
  [[ ${name##*/} == *:* ]] || name=$name:latest
  local out=${tar%.tar}
  out=${out%.oci}.$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').docker.tar
  if [[ ! -s $out ]]; then
    local policy=$BERTH_HARNESS_DIR/skopeo-policy.json
    [[ -f $policy ]] || printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$policy"
    rm -f "$out.part"
    if ! TMPDIR=$BERTH_HARNESS_DIR/tmp skopeo --policy "$policy" copy --quiet \
      "oci-archive:$tar" "docker-archive:$out.part:$name" >&2 || ! mv "$out.part" "$out"; then
      rm -f "$out.part"
      _harness_fail "skopeo copy oci-archive:$tar docker-archive:$out.part:$name failed"
      return 1
    fi
  fi
  printf '%s\n' "$out"
}

# --- dockerd ------------------------------------------------------------------------------

# harness_docker DIR ARGS...: Debian's docker CLI (/usr/bin/docker) on the dockerd started in
# DIR; the API version is negotiated; the client's config dir is DIR/client, not ~/.docker.
harness_docker() {
  local dir=${1:?usage: harness_docker DIR ARGS...}
  shift
  _harness_timeout
  "${HARNESS_TIMEOUT_ARGV[@]}" env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_API_VERSION \
    -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_CONFIG="$dir/client" \
    /usr/bin/docker -H "unix://$dir/docker.sock" "$@"
}

# harness_start_dockerd DIR CONTAINERD_SOCK: dockerd (20.10) on DIR/docker.sock with that
# containerd (its namespace moby), data root DIR/root, exec root DIR/exec, storage driver
# overlay2; no iptables, bridge, masquerading or ip_forward, and its own daemon.json: it changes
# no global state of the host. Exports BERTH_TEST_DOCKER (the socket's path) and
# BERTH_TEST_DOCKER_ROOT (the data root).
harness_start_dockerd() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_start_dockerd DIR CONTAINERD_SOCK}") || return 1
  local ctd=${2:?usage: harness_start_dockerd DIR CONTAINERD_SOCK}
  [[ -S $ctd ]] || { _harness_fail "no containerd socket at $ctd"; return 1; }
  local sock=$dir/docker.sock
  ((${#sock} + 6 < 108)) || { _harness_fail "$sock is too long for a unix socket"; return 1; }
  mkdir -p "$dir/root" "$dir/exec" "$dir/client"
  # --config-file: /etc/docker/daemon.json is never read. deprecated-key-path: dockerd 20.10
  # writes /etc/docker/key.json otherwise.
  cat >"$dir/daemon.json" <<EOF
{
  "storage-driver": "overlay2",
  "deprecated-key-path": "$dir/key.json",
  "iptables": false,
  "ip6tables": false,
  "ip-forward": false,
  "ip-masq": false,
  "bridge": "none",
  "userland-proxy": false,
  "live-restore": false,
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "log-level": "info"
}
EOF
  # The command line, one argument a line, for harness_restart_dockerd. DIR/docker.pid is
  # dockerd's own PID file; DIR/dockerd.pid the harness's.
  printf '%s\n' dockerd --config-file "$dir/daemon.json" --data-root "$dir/root" \
    --exec-root "$dir/exec" --pidfile "$dir/docker.pid" -H "unix://$sock" \
    --containerd "$ctd" >"$dir/cmdline"
  _harness_register dockerd "$dir"
  _harness_launch_dockerd "$dir" || return 1
  local driver
  driver=$(harness_docker "$dir" info --format '{{.Driver}}' 2>&1) ||
    { _harness_fail "docker info failed: $driver" "$dir/dockerd.log"; return 1; }
  [[ $driver == overlay2 ]] ||
    { _harness_fail "dockerd's storage driver is '$driver', not overlay2" "$dir/dockerd.log"; return 1; }
  export BERTH_TEST_DOCKER=$sock BERTH_TEST_DOCKER_ROOT=$dir/root
}

# _harness_launch_dockerd DIR: start dockerd with DIR/cmdline, wait for /_ping (30 s).
_harness_launch_dockerd() {
  local dir=$1 cmd=() old
  mapfile -t cmd <"$dir/cmdline"
  # dockerd refuses to start while its PID file names a live process: after a SIGKILL that
  # PID may have been reused by another.
  old=$(cat "$dir/docker.pid" 2>/dev/null) || old=
  if [[ -n $old ]] && ! _harness_owns "$old" "$dir/daemon.json"; then rm -f "$dir/docker.pid"; fi
  _harness_spawn "$dir/dockerd.pid" "$dir/dockerd.log" "${cmd[@]}" || return 1
  local pid
  pid=$(cat "$dir/dockerd.pid")
  _harness_wait_ping "$dir/docker.sock" 30 "$pid" && return 0
  if _harness_alive "$pid"; then
    _harness_fail "dockerd did not answer /_ping on $dir/docker.sock within 30 s" "$dir/dockerd.log"
  else
    wait "$pid" 2>/dev/null || true
    _harness_fail "dockerd exited at start" "$dir/dockerd.log"
  fi
}

# harness_restart_dockerd DIR: stop that dockerd (SIGTERM: it stops its running containers,
# which takes each one's stop timeout, 10 s by default, when it ignores SIGTERM; SIGKILL after
# 30 s) and start it again with the same flags. Its containers are then stopped (no
# live-restore), not removed.
harness_restart_dockerd() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_restart_dockerd DIR}") || return 1
  [[ -f $dir/cmdline ]] || { _harness_fail "no dockerd was started in $dir"; return 1; }
  local pid
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && _harness_owns "$pid" "$dir/daemon.json"; then
    _harness_terminate "$pid" 30
  fi
  printf '=== restarted by the harness at %s ===\n' "$(date +%T.%N)" >>"$dir/dockerd.log"
  _harness_launch_dockerd "$dir"
}

# harness_docker_load_image DIR OCI_TAR NAME: load the image into the dockerd of DIR as NAME
# (REPO:TAG, default tag latest) through a docker-archive; checks that NAME is listed.
harness_docker_load_image() {
  local dir=${1:?usage: harness_docker_load_image DIR OCI_TAR NAME} tar=${2:?} name=${3:?}
  [[ ${name##*/} == *:* ]] || name=$name:latest
  local archive out
  archive=$(harness_docker_archive "$tar" "$name") || return 1
  out=$(harness_docker "$dir" load -i "$archive" 2>&1) ||
    { _harness_fail "docker load -i $archive failed: $out" "$dir/dockerd.log"; return 1; }
  out=$(harness_docker "$dir" image ls --format '{{.Repository}}:{{.Tag}}' 2>&1)
  grep -qxF "$name" <<<"$out" ||
    { _harness_fail "after docker load, $name is not in: $(tr '\n' ' ' <<<"$out")"; return 1; }
}

# _harness_stop_dockerd DIR: remove its containers while it answers, then stop it. Its tasks
# left in containerd (namespace moby) are killed by _harness_stop_containerd, which runs after.
_harness_stop_dockerd() {
  local dir=$1 pid ids
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null) || pid=
  [[ -n $pid ]] && _harness_owns "$pid" "$dir/daemon.json" || return 0
  if ids=$(HARNESS_TIMEOUT=10 harness_docker "$dir" ps -aq 2>/dev/null) && [[ -n $ids ]]; then
    # shellcheck disable=SC2086 # IDs, one a line
    HARNESS_TIMEOUT=60 harness_docker "$dir" rm -f $ids >/dev/null 2>&1 ||
      _harness_log "docker rm -f of the containers left on $dir/docker.sock failed"
  fi
  _harness_terminate "$pid" 20
}

# --- podman -------------------------------------------------------------------------------

# What podman must not see of the caller's environment: CONTAINER_HOST would make the CLI a
# remote client; DOCKER_CONFIG and REGISTRY_AUTH_FILE name the auth file (podman fails when the
# file is missing).
HARNESS_PODMAN_UNSET=(-u CONTAINER_HOST -u CONTAINER_CONNECTION -u CONTAINER_SSHKEY -u DOCKER_CONFIG -u REGISTRY_AUTH_FILE)

# harness_podman DIR ARGS...: the podman CLI (local, not remote) on the storage and config of
# the service started in DIR: what the service sees, the CLI sees, and the other way round.
harness_podman() {
  local dir=${1:?usage: harness_podman DIR ARGS...}
  shift
  _harness_timeout
  "${HARNESS_TIMEOUT_ARGV[@]}" env "${HARNESS_PODMAN_UNSET[@]}" \
    CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" TMPDIR="$dir/tmp" podman "$@"
}

# harness_start_podman DIR: Podman's API service (Docker-compatible API 1.41 and libpod API
# v4, pods included) on DIR/podman.sock; storage (overlay) in DIR/storage (graphroot) and
# DIR/run (runroot), libpod's tmp dir DIR/tmp, file locks (not /dev/shm), netavark configs in
# DIR/net, its own containers.conf, storage.conf and registries.conf: never /etc/containers'
# nor /var/lib/containers' state. Containers default to network none. Builds the pods' infra
# image (localhost/podman-pause, from catatonit) by creating and removing a pod. Exports
# BERTH_TEST_PODMAN (the socket's path) and BERTH_TEST_PODMAN_ROOT (the graphroot).
harness_start_podman() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_start_podman DIR}") || return 1
  local sock=$dir/podman.sock
  ((${#sock} + 6 < 108)) || { _harness_fail "$sock is too long for a unix socket"; return 1; }
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/net"
  # default_ulimits is REQUIRED here (no CAP_SYS_RESOURCE: "error setting rlimit type 7"
  # otherwise). netns "none" is the default of the libpod API (containers and pods); the
  # Docker-compatible API ignores it and uses the bridge network "podman": pass NetworkMode
  # "none" there. lock_type "file": locks in DIR/tmp/locks, not in /dev/shm/libpod_lock shared
  # with every other podman of the host. infra_image unset: podman builds
  # localhost/podman-pause:VERSION from catatonit, offline. The events log is never rotated:
  # the teardown reads the IDs of the pods from it.
  cat >"$dir/containers.conf" <<EOF
# written by berth tests/harness/lib.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"
netns = "none"

[network]
network_backend = "netavark"
network_config_dir = "$dir/net"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_max_size = "0"
runtime = "runc"
tmp_dir = "$dir/tmp"
image_copy_tmp_dir = "$dir/tmp"
lock_type = "file"
EOF
  cat >"$dir/storage.conf" <<EOF
# written by berth tests/harness/lib.sh
[storage]
driver = "overlay"
runroot = "$dir/run"
graphroot = "$dir/storage"
EOF
  # No search registries; the harness's registries started before (plain HTTP) are insecure,
  # so that the Docker-compatible API, which has no tlsVerify, pulls from them.
  local r
  {
    printf '# written by berth tests/harness/lib.sh\nunqualified-search-registries = []\n'
    for r in ${BERTH_TEST_REGISTRY:-} ${BERTH_TEST_REGISTRY_AUTH:-}; do
      printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$r"
    done
  } >"$dir/registries.conf"
  # What netavark would leave in the host's firewall and sysctls if a test used a bridge
  # network anyway: the teardown removes what was not there before.
  _harness_netavark_chains >"$dir/netavark-chains.before"
  cat /proc/sys/net/ipv4/ip_forward >"$dir/ip_forward.before" 2>/dev/null
  _harness_register podman "$dir"
  _harness_launch_podman "$dir" || return 1
  # The pods' infra image, built now (about 0.3 s) so that the image list does not change
  # under the tests when the first pod is made.
  local out
  out=$(harness_podman "$dir" pod create --name berth-harness-warmup 2>&1 &&
    harness_podman "$dir" pod rm -f berth-harness-warmup 2>&1) ||
    { _harness_fail "podman could not create a pod (its infra image is built from catatonit): $out" "$dir/podman.log"; return 1; }
  export BERTH_TEST_PODMAN=$sock BERTH_TEST_PODMAN_ROOT=$dir/storage
}

# _harness_launch_podman DIR: start the service, wait for /_ping (30 s).
_harness_launch_podman() {
  local dir=$1
  _harness_spawn "$dir/podman.pid" "$dir/podman.log" env "${HARNESS_PODMAN_UNSET[@]}" \
    CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" TMPDIR="$dir/tmp" \
    podman system service --time=0 "unix://$dir/podman.sock" || return 1
  local pid
  pid=$(cat "$dir/podman.pid")
  _harness_wait_ping "$dir/podman.sock" 30 "$pid" && return 0
  if _harness_alive "$pid"; then
    _harness_fail "podman system service did not answer /_ping on $dir/podman.sock within 30 s" "$dir/podman.log"
  else
    wait "$pid" 2>/dev/null || true
    _harness_fail "podman system service exited at start" "$dir/podman.log"
  fi
}

# harness_restart_podman DIR: stop the service (SIGTERM, SIGKILL after 10 s) and start it again.
# Containers live on (each has its conmon).
harness_restart_podman() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_restart_podman DIR}") || return 1
  [[ -f $dir/containers.conf ]] || { _harness_fail "no podman was started in $dir"; return 1; }
  local pid
  pid=$(cat "$dir/podman.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && _harness_owns "$pid" "$dir/podman.sock"; then
    _harness_terminate "$pid" 10
  fi
  printf '=== restarted by the harness at %s ===\n' "$(date +%T.%N)" >>"$dir/podman.log"
  _harness_launch_podman "$dir"
}

# harness_podman_load_image DIR OCI_TAR NAME: load the image into the podman of DIR as NAME
# (REPO:TAG, default tag latest) through a docker-archive; checks that NAME is listed.
harness_podman_load_image() {
  local dir=${1:?usage: harness_podman_load_image DIR OCI_TAR NAME} tar=${2:?} name=${3:?}
  [[ ${name##*/} == *:* ]] || name=$name:latest
  local archive out
  archive=$(harness_docker_archive "$tar" "$name") || return 1
  out=$(harness_podman "$dir" load -q -i "$archive" 2>&1) ||
    { _harness_fail "podman load -i $archive failed: $out"; return 1; }
  out=$(harness_podman "$dir" image ls --format '{{.Repository}}:{{.Tag}}' 2>&1)
  grep -qxF "$name" <<<"$out" ||
    { _harness_fail "after podman load, $name is not in: $(tr '\n' ' ' <<<"$out")"; return 1; }
}

# _harness_netavark_chains: "COMMAND TABLE CHAIN" for every NETAVARK* chain in the host's
# iptables and ip6tables (netavark 1.4 uses iptables, through nftables' compatibility).
_harness_netavark_chains() {
  local cmd t
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null 2>&1 || continue
    for t in filter nat mangle; do
      "$cmd" -w 5 -t "$t" -S 2>/dev/null |
        awk -v c="$cmd" -v t="$t" '$1 == "-N" && $2 ~ /^NETAVARK/ {print c, t, $2}'
    done
  done
}

# _harness_netavark_cleanup DIR: when a test used a bridge network (netavark then adds NETAVARK*
# chains and jumps to them to the host's firewall, and sets ip_forward to 1), remove the chains
# that were not there when the service started, and put ip_forward back.
_harness_netavark_cleanup() {
  local dir=$1 now before line cmd t chain
  [[ -f $dir/netavark-chains.before ]] || return 0
  now=$(_harness_netavark_chains)
  before=$(cat "$dir/netavark-chains.before")
  local new=()
  while read -r line; do
    [[ -n $line ]] && ! grep -qxF "$line" <<<"$before" && new+=("$line")
  done <<<"$now"
  ((${#new[@]})) || return 0
  _harness_log "a test used a bridge network on podman (use network none): removing the netavark chains it left: $(printf '%s, ' "${new[@]}")"
  # The rules jumping to a new chain (by number, last first), then the chains.
  for line in "${new[@]}"; do
    read -r cmd t chain <<<"$line"
    local from num
    while read -r from num; do
      [[ -n $from ]] && "$cmd" -w 5 -t "$t" -D "$from" "$num" 2>/dev/null
    done < <("$cmd" -w 5 -t "$t" -S 2>/dev/null | awk -v c="$chain" '
      $1 == "-A" { n[$2]++; for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && $(i + 1) == c) print $2, n[$2] }' | sort -k1,1 -k2,2nr)
  done
  for line in "${new[@]}"; do read -r cmd t chain <<<"$line"; "$cmd" -w 5 -t "$t" -F "$chain" 2>/dev/null; done
  for line in "${new[@]}"; do read -r cmd t chain <<<"$line"; "$cmd" -w 5 -t "$t" -X "$chain" 2>/dev/null; done
  if [[ $(cat "$dir/ip_forward.before" 2>/dev/null) == 0 && $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]]; then
    _harness_log "putting net.ipv4.ip_forward back to 0"
    echo 0 >/proc/sys/net/ipv4/ip_forward
  fi
  return 0
}

# _harness_stop_podman DIR: remove its pods and containers (CLI, whether the service answers or
# not), stop the service, end the conmons of DIR (each exec leaves one, `--exit-delay 300`) and
# the runc containers whose bundle is in DIR, undo what a bridge network left.
_harness_stop_podman() {
  local dir=$1 pid p args
  HARNESS_TIMEOUT=60 harness_podman "$dir" pod rm -a -f -t 0 >/dev/null 2>&1 ||
    _harness_log "podman pod rm -af in $dir failed"
  HARNESS_TIMEOUT=60 harness_podman "$dir" rm -a -f -t 0 >/dev/null 2>&1 ||
    _harness_log "podman rm -af in $dir failed"
  pid=$(cat "$dir/podman.pid" 2>/dev/null) || pid=
  [[ -n $pid ]] && _harness_owns "$pid" "$dir/podman.sock" && _harness_terminate "$pid" 10
  local conmons=()
  for p in /proc/[0-9]*; do
    { mapfile -d '' -t args <"$p/cmdline"; } 2>/dev/null || continue
    ((${#args[@]})) && [[ ${args[0]##*/} == conmon ]] || continue
    [[ " ${args[*]} " == *" $dir/"* ]] || continue
    conmons+=("${p#/proc/}")
  done
  # Their containers are gone (or would not go): SIGKILL, all at once. (Each exec leaves one
  # for 300 s.)
  for pid in "${conmons[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${conmons[@]}"; do _harness_terminate "$pid" 2; done
  # podman runs runc with its default root, /run/runc, shared with other users of runc: a
  # container there is removed only when its bundle is in DIR.
  local state id
  for id in /run/runc/*/state.json; do
    [[ -f $id ]] || continue
    id=${id%/state.json} id=${id##*/}
    state=$(runc --root /run/runc state "$id" 2>/dev/null) || continue
    [[ $state == *"\"bundle\": \"$dir/"* ]] || continue
    _harness_log "removing leftover podman container $id (runc root /run/runc)"
    runc --root /run/runc delete --force "$id" >/dev/null 2>&1 || true
  done
  # With cgroupfs on cgroups v1, podman leaves each started pod's cgroup in the name=systemd
  # and unified hierarchies: remove those of the pods this podman made (its events log names
  # them); rmdir removes only empty cgroups.
  local cg
  for id in $(grep -F '"Type":"pod"' "$dir/tmp/events/events.log" 2>/dev/null | grep -F '"Status":"create"' |
    grep -o '"ID":"[0-9a-f]*"' | cut -d'"' -f4 | sort -u); do
    for cg in /sys/fs/cgroup/*/libpod_parent/"$id" /sys/fs/cgroup/libpod_parent/"$id"; do
      [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  done
  _harness_netavark_cleanup "$dir"
  return 0
}

# --- faults: killed daemons, a full disk, an unprivileged caller ----------------------------

# _harness_daemon_pid KIND DIR: the PID of the daemon KIND started in DIR, when it is alive
# and its command line is the one the harness gave it (PIDs wrap at 32768).
_harness_daemon_pid() {
  local kind=$1 dir=$2 pidfile mark pid
  case $kind in
    containerd) pidfile=$dir/containerd.pid mark=$dir/containerd.toml ;;
    dockerd) pidfile=$dir/dockerd.pid mark=$dir/daemon.json ;;
    podman) pidfile=$dir/podman.pid mark=$dir/podman.sock ;;
    *) _harness_fail "unknown daemon kind '$kind' (containerd, dockerd or podman)"; return 1 ;;
  esac
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  _harness_owns "$pid" "$mark" || return 1
  printf '%s\n' "$pid"
}

# harness_kill_daemon KIND DIR: SIGKILL the daemon KIND (containerd, dockerd or podman) started
# in DIR, as a crash would, and wait until it is gone. Nothing else is touched: containerd's
# shims, dockerd's tasks in containerd and Podman's conmons live on, its socket file stays.
# Start it again with harness_relaunch_daemon.
harness_kill_daemon() {
  local kind=${1:?usage: harness_kill_daemon KIND DIR} dir i pid
  dir=$(_harness_sub "${2:?usage: harness_kill_daemon KIND DIR}") || return 1
  pid=$(_harness_daemon_pid "$kind" "$dir") || { _harness_fail "no live $kind started in $dir"; return 1; }
  printf '=== SIGKILL by the harness at %s ===\n' "$(date +%T.%N)" >>"$dir/$kind.log"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do # 10 s
    _harness_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  _harness_fail "$kind (pid $pid) still runs 10 s after SIGKILL" "$dir/$kind.log"
}

# harness_relaunch_daemon KIND DIR: start the daemon KIND again in DIR with the config and flags
# it was first started with (after harness_kill_daemon), and wait until it answers.
harness_relaunch_daemon() {
  local kind=${1:?usage: harness_relaunch_daemon KIND DIR} dir
  dir=$(_harness_sub "${2:?usage: harness_relaunch_daemon KIND DIR}") || return 1
  if _harness_daemon_pid "$kind" "$dir" >/dev/null; then
    _harness_fail "$kind in $dir still runs: kill it first"
    return 1
  fi
  printf '=== relaunched by the harness at %s ===\n' "$(date +%T.%N)" >>"$dir/$kind.log"
  case $kind in
    containerd) _harness_launch_containerd "$dir" ;;
    dockerd) _harness_launch_dockerd "$dir" ;;
    podman) _harness_launch_podman "$dir" ;;
  esac
}

# harness_tmpfs DIR SIZE: mount a tmpfs of SIZE (as mount's size=, e.g. 1m) at DIR, inside
# BERTH_HARNESS_DIR, world-writable with the sticky bit (as /tmp), for tests of a full disk.
# harness_stop_all unmounts it; harness_untmpfs DIR does so earlier.
harness_tmpfs() {
  local dir size=${2:?usage: harness_tmpfs DIR SIZE}
  dir=$(_harness_sub "${1:?usage: harness_tmpfs DIR SIZE}") || return 1
  mount -t tmpfs -o "size=$size,mode=1777,nosuid,nodev" berth-harness-tmpfs "$dir" ||
    { _harness_fail "mount -t tmpfs -o size=$size at $dir failed"; return 1; }
}

# harness_untmpfs DIR: unmount the tmpfs harness_tmpfs put at DIR.
harness_untmpfs() {
  local dir
  dir=$(_harness_sub "${1:?usage: harness_untmpfs DIR}") || return 1
  umount "$dir" || { _harness_fail "umount $dir failed"; return 1; }
}

# harness_unprivileged CMD...: run CMD as nobody:nogroup with no supplementary groups and no
# capabilities (root bypasses file and socket permissions: a check of what a caller without
# them sees must run as someone else). Exits with CMD's status.
harness_unprivileged() {
  (($#)) || { _harness_fail "usage: harness_unprivileged CMD..."; return 1; }
  setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all --bounding-set=-all -- "$@"
}

# --- teardown -----------------------------------------------------------------------------

# _harness_unmount_under DIR: unmount everything mounted below DIR, deepest first.
_harness_unmount_under() {
  local pass m mounts
  for pass in 1 2 3; do
    mapfile -t mounts < <(awk -v d="$1/" '
      { m = $5; gsub(/\\040/, " ", m); gsub(/\\011/, "\t", m); gsub(/\\134/, "\\", m)
        if (index(m, d) == 1) print length(m) "\t" m }' /proc/self/mountinfo | sort -rn | cut -f2-)
    ((${#mounts[@]})) || return 0
    for m in "${mounts[@]}"; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
        _harness_log "could not unmount $m"
    done
  done
}

# harness_stop_all: stop what the harness started in BERTH_HARNESS_DIR, unmount, remove the
# directory. Safe to call twice and from an EXIT trap; always returns 0.
harness_stop_all() {
  local h=${BERTH_HARNESS_DIR:-}
  [[ -n $h && -d $h ]] || return 0
  if [[ ! -e $h/.berth-harness ]]; then
    _harness_log "$h is not a harness directory (no .berth-harness): left alone"
    return 0
  fi
  local lines=() i kind dir pid
  [[ -f $h/daemons ]] && mapfile -t lines <"$h/daemons"
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do # last started, first stopped
    kind=${lines[i]%% *} dir=${lines[i]#* }
    case $kind in
      containerd) _harness_stop_containerd "$dir" ;;
      dockerd) _harness_stop_dockerd "$dir" ;;
      podman) _harness_stop_podman "$dir" ;;
      registry)
        pid=$(cat "$dir/registry.pid" 2>/dev/null) || pid=
        [[ -n $pid ]] && _harness_owns "$pid" "$dir/config.yml" && _harness_terminate "$pid" 10
        ;;
    esac
  done
  _harness_unmount_under "$h"
  rm -rf --one-file-system "$h" 2>/dev/null || _harness_log "could not remove all of $h"
  return 0
}
