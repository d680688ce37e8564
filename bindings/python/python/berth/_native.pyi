"""Types of berth._native, the Rust part of the package (bindings/python/src).

The JSON documents that methods return as dicts (docs/schemas.md) are TypedDicts
here. They exist only for type checkers (`@type_check_only`): import them under
`typing.TYPE_CHECKING`. Stream is generic (`Stream[Event]` works at run time too).
"""

import io
import os
import types
from collections.abc import Callable, Iterable, Iterator
from typing import (
    Any,
    Generic,
    Literal,
    NotRequired,
    Required,
    Self,
    TypeAlias,
    TypedDict,
    TypeVar,
    Unpack,
    final,
    overload,
    type_check_only,
)

from typing_extensions import Buffer

from ._shapes import DirEntry, ExecResult, File, LogChunk, ProcessEvent, StatResult

__all__ = [
    "connect",
    "detect",
    "version",
    "abi_version",
    "status_string",
    "status_table",
    "Runtime",
    "Image",
    "Layer",
    "Container",
    "Process",
    "Pod",
    "Stream",
    "FileSystem",
    "RawFile",
]

_T_co = TypeVar("_T_co", covariant=True)

# A path on this host, as pyo3 takes it (str or os.PathLike of str).
_StrPath: TypeAlias = str | os.PathLike[str]
# Bytes as pyo3 takes them for a Vec<u8>.
_Bytes: TypeAlias = bytes | bytearray | memoryview
# What FileSystem.walk() hands to `onerror`.
_WalkError: TypeAlias = OSError | LookupError | ValueError

# Closed sets of words (serde enums in berth-core); private, as stubs-only aliases.
_RuntimeKind: TypeAlias = Literal["docker", "podman", "containerd", "cri", "oci", "oci-archive", "docker-archive", "registry"]
_ContainerStatus: TypeAlias = Literal["created", "running", "paused", "stopped", "unknown"]
_ChangeKind: TypeAlias = Literal["added", "modified", "deleted"]
_Compression: TypeAlias = Literal["none", "gzip", "zstd"]
_NetworkMode: TypeAlias = Literal["none", "host"]

# Options: keyword arguments, sent as the JSON options document. None is JSON null,
# which berth reads as "absent" for the fields that have no other default.

@type_check_only
class ConnectOptions(TypedDict, total=False):
    """Keyword options of connect()."""

    timeout_ms: int | None
    namespace: str | None
    platform: str | None
    username: str | None
    password: str | None

@type_check_only
class Mount(TypedDict, total=False):
    """One item of CreateOptions.mounts."""

    source: Required[str]
    destination: Required[str]
    type: str | None
    read_only: bool
    options: list[str]

@type_check_only
class Resources(TypedDict, total=False):
    """Resource limits: Container.update_resources(), CreateOptions.resources."""

    memory_bytes: int | None
    cpu_shares: int | None
    cpu_quota: int | None
    cpu_period: int | None
    pids_limit: int | None

@type_check_only
class CreateOptions(TypedDict, total=False):
    """Keyword options of Runtime.create_container()."""

    name: str | None
    args: list[str]
    entrypoint: list[str] | None
    env: list[str]
    cwd: str | None
    user: str | None
    tty: bool
    stdin: bool
    hostname: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    mounts: list[Mount]
    resources: Resources
    network: _NetworkMode
    pod: str | None

@type_check_only
class ExecOutputOptions(TypedDict, total=False):
    """Keyword options of Container.exec_output()."""

    env: list[str]
    cwd: str | None
    user: str | None
    tty: bool

@type_check_only
class ExecOptions(ExecOutputOptions, total=False):
    """Keyword options of Container.exec()."""

    stdin: bool

@type_check_only
class LogOptions(TypedDict, total=False):
    """Keyword options of Container.logs()."""

    follow: bool
    since: int | None
    until: int | None
    tail: int | None
    timestamps: bool
    stdout: bool
    stderr: bool

@type_check_only
class CommitOptions(TypedDict, total=False):
    """Keyword options of Container.commit()."""

    reference: str | None
    message: str | None
    author: str | None
    changes: list[str]
    pause: bool | None

@type_check_only
class PodOptions(TypedDict, total=False):
    """Keyword options of Runtime.create_pod()."""

    name: str | None
    labels: dict[str, str]
    hostname: str | None
    network: _NetworkMode

@type_check_only
class PullOptions(TypedDict, total=False):
    """Keyword options of Runtime.pull()."""

    username: str | None
    password: str | None
    platform: str | None
    plain_http: bool

@type_check_only
class PushOptions(TypedDict, total=False):
    """Keyword options of Runtime.push()."""

    username: str | None
    password: str | None
    plain_http: bool

# Documents the methods return.

@type_check_only
class RuntimeVersion(TypedDict):
    """RuntimeInfo.version: the product behind the endpoint."""

    kind: _RuntimeKind
    name: str
    version: str
    api_version: str | None

@type_check_only
class Capabilities(TypedDict):
    """RuntimeInfo.capabilities: what the runtime can do."""

    images: bool
    image_filesystems: bool
    pull: bool
    push: bool
    containers: bool
    exec: bool
    pods: bool
    snapshots: bool
    events: bool

@type_check_only
class RuntimeInfo(TypedDict):
    """Runtime.info."""

    endpoint: str
    kind: _RuntimeKind
    version: RuntimeVersion
    capabilities: Capabilities

@type_check_only
class DetectedRuntime(TypedDict):
    """One item of detect()."""

    endpoint: str
    kind: _RuntimeKind
    source: str
    namespaces: NotRequired[list[str]]

@type_check_only
class Platform(TypedDict):
    """An image's os, architecture and variant."""

    os: str
    architecture: str
    variant: NotRequired[str]

@type_check_only
class ImageSummary(TypedDict):
    """One image, as listings show it."""

    id: str
    repo_tags: list[str]
    repo_digests: list[str]
    manifest_digest: str | None
    size: int
    created: str | None
    platform: Platform | None

@type_check_only
class LayerInfo(TypedDict):
    """Layer.inspect(), and each item of ImageInspect.layers."""

    digest: str
    diff_id: str | None
    media_type: str
    compression: _Compression
    size: int

@type_check_only
class ImageInspect(ImageSummary):
    """Image.inspect(): the summary plus layers, manifest and config."""

    layers: list[LayerInfo]
    manifest: dict[str, Any]
    config: dict[str, Any]

@type_check_only
class LayerChanges(TypedDict):
    """Layer.changes(): whiteouts and opaque directories, relative to the root."""

    whiteouts: list[str]
    opaques: list[str]

@type_check_only
class ContainerState(TypedDict):
    """ContainerSummary.state."""

    status: _ContainerStatus
    pid: int | None
    exit_code: int | None
    started_at: str | None
    finished_at: str | None

@type_check_only
class ContainerSummary(TypedDict):
    """One container, as listings show it."""

    id: str
    names: list[str]
    image: str
    image_id: str | None
    labels: dict[str, str]
    state: ContainerState
    created: str | None
    pod: str | None

@type_check_only
class ContainerInspect(ContainerSummary):
    """Container.inspect(): the summary plus spec, snapshot and runtime."""

    spec: dict[str, Any] | None
    snapshotter: str | None
    snapshot_key: str | None
    runtime: str | None
    native: NotRequired[dict[str, Any]]

@type_check_only
class ProcessInfo(TypedDict):
    """One item of Container.processes()."""

    pid: int
    host_pid: int
    ppid: int
    name: str
    cmdline: list[str]
    cwd: str | None
    environ: list[str]
    exe: str | None
    uids: list[int]
    gids: list[int]
    status: str
    start_time: float | None
    children: list[int]

@type_check_only
class Change(TypedDict):
    """One item of Container.changes()."""

    path: str
    kind: _ChangeKind

@type_check_only
class Event(TypedDict):
    """One item of Runtime.events()."""

    time: str | None
    namespace: str | None
    topic: str
    kind: str
    container_id: str | None
    exec_id: str | None
    pid: int | None
    exit_code: int | None
    image: str | None

@type_check_only
class PullProgress(TypedDict, total=False):
    """One item of Runtime.pull(); the last has status "complete" and image."""

    digest: str
    status: Required[str]
    offset: int
    total: int
    image: ImageSummary

@type_check_only
class PushProgress(TypedDict, total=False):
    """One item of Runtime.push(); the last has status "complete" and reference."""

    digest: str
    status: Required[str]
    offset: int
    total: int
    reference: str

@type_check_only
class Stats(TypedDict):
    """One item of Container.stats()."""

    read: str | None
    cpu_total_ns: int
    system_cpu_ns: int
    online_cpus: int
    cpu_percent: float | None
    memory_usage: int
    memory_limit: int
    pids: int
    network_rx_bytes: int
    network_tx_bytes: int
    block_read_bytes: int
    block_write_bytes: int

@type_check_only
class PodSummary(TypedDict):
    """One pod, as listings show it."""

    id: str
    name: str
    state: str
    containers: list[str]
    labels: dict[str, str]
    created: str | None

@type_check_only
class PodInspect(PodSummary):
    """Pod.inspect(): the summary plus the runtime's own document."""

    native: dict[str, Any]

@type_check_only
class Snapshot(TypedDict):
    """Runtime.snapshot(), and one item of Runtime.snapshots()."""

    key: str
    parent: str | None
    kind: str
    labels: dict[str, str]
    created: str | None

@type_check_only
class SnapshotMount(TypedDict):
    """One mount that makes a snapshot usable."""

    type: str
    source: str
    options: list[str]

@type_check_only
class SnapshotUsage(TypedDict):
    """Runtime.snapshot_usage(): bytes and inodes of the snapshot's own layer."""

    size: int
    inodes: int

# Functions.

def connect(endpoint: str | None = None, **options: Unpack[ConnectOptions]) -> Runtime:
    """Opens a runtime: an endpoint string, or None for the first one detect() finds."""

def detect() -> list[DetectedRuntime]:
    """The runtimes this host offers; nothing is connected to."""

def version() -> str:
    """The version of the loaded libberth."""

def abi_version() -> int:
    """The ABI version of the loaded libberth."""

def status_string(status: int) -> str:
    """The library's name of a status ("not_found", ...): its exception's `kind`."""

def status_table() -> list[tuple[int, str, str]]:
    """Every error status of the library as (status, kind, exception class name)."""

# Classes. Each holds one handle of the library: close() it, use it in a `with` block,
# or leave it to the collector. What they share (one macro in bindings/python/src/
# handle.rs) is written once, in _Handle, which exists only for type checkers.

@type_check_only
class _Handle:
    def close(self) -> None:
        """Closes the handle; later calls do nothing."""

    @property
    def closed(self) -> bool:
        """Whether close() was called."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...

@final
class Runtime(_Handle):
    """A connection to one endpoint."""

    @property
    def info(self) -> RuntimeInfo:
        """The endpoint, kind, version and capabilities."""

    def images(self) -> Iterator[ImageSummary]:
        """The images."""

    def find_images(self, pattern: str) -> Iterator[ImageSummary]:
        """The images `pattern` matches (an ID, an ID prefix, a name or a short name)."""

    def open_image(self, pattern: str) -> Image:
        """Opens the one image `pattern` matches."""

    def tag_image(self, source: str, target: str) -> None:
        """Gives the image `source` the extra name `target`."""

    def remove_image(self, pattern: str) -> None:
        """Removes an image name; given an image ID, the image with all its names."""

    def import_images(self, path: _StrPath) -> list[ImageSummary]:
        """Imports the images of an oci-archive or docker-archive tar on this host."""

    def export_images(self, patterns: str | Iterable[str], path: _StrPath) -> None:
        """Writes the images `patterns` names to an oci-archive tar at `path`."""

    def pull(self, reference: str, **options: Unpack[PullOptions]) -> Stream[PullProgress]:
        """Pulls `reference`; a Stream of progress, the last item "complete"."""

    def push(self, reference: str, **options: Unpack[PushOptions]) -> Stream[PushProgress]:
        """Pushes the image named `reference`; a Stream of progress."""

    def events(self, filters: str | Iterable[str] | None = None) -> Stream[Event]:
        """The runtime's events from now on (filters in the backend's syntax, ORed)."""

    def containers(self, filters: str | Iterable[str] | None = None) -> Iterator[ContainerSummary]:
        """The containers (filters in the backend's syntax, ORed)."""

    def find_containers(self, pattern: str) -> Iterator[ContainerSummary]:
        """The containers `pattern` matches (an exact ID or name, else an ID prefix)."""

    def open_container(self, pattern: str) -> Container:
        """Opens the one container `pattern` matches."""

    def create_container(self, image: str, **options: Unpack[CreateOptions]) -> Container:
        """Creates a container of `image` (not started)."""

    def pods(self) -> Iterator[PodSummary]:
        """The pods (Podman)."""

    def create_pod(self, **options: Unpack[PodOptions]) -> Pod:
        """Creates a pod (Podman)."""

    def open_pod(self, pattern: str) -> Pod:
        """Opens the one pod `pattern` matches."""

    def snapshots(self, snapshotter: str | None = None) -> Iterator[Snapshot]:
        """The snapshots of `snapshotter` (None: the runtime's default)."""

    def snapshot(self, key: str, snapshotter: str | None = None) -> Snapshot:
        """The snapshot `key`."""

    def prepare_snapshot(self, key: str, parent: str | None = None, snapshotter: str | None = None) -> list[SnapshotMount]:
        """Creates the active snapshot `key` on `parent`; returns its mounts."""

    def view_snapshot(self, key: str, parent: str, snapshotter: str | None = None) -> list[SnapshotMount]:
        """Creates the read-only view `key` of `parent`; returns its mounts."""

    def commit_snapshot(self, name: str, key: str, snapshotter: str | None = None) -> None:
        """Commits the active snapshot `key` as `name`."""

    def snapshot_mounts(self, key: str, snapshotter: str | None = None) -> list[SnapshotMount]:
        """The mounts of the active or view snapshot `key`."""

    def snapshot_usage(self, key: str, snapshotter: str | None = None) -> SnapshotUsage:
        """The disk use of snapshot `key`."""

    def remove_snapshot(self, key: str, snapshotter: str | None = None) -> None:
        """Removes snapshot `key`."""

@final
class Image(_Handle):
    """An image of a runtime."""

    @property
    def id(self) -> str:
        """The image ID (sha256:...)."""

    @property
    def layers(self) -> list[Layer]:
        """The layers, lowest first."""

    def inspect(self) -> ImageInspect:
        """The inspect document."""

    def filesystem(self) -> FileSystem:
        """The image's root filesystem (read-only; the layers merged)."""

@final
class Layer(_Handle):
    """One layer of an image."""

    def inspect(self) -> LayerInfo:
        """The layer's digest, diff ID, media type, compression and size."""

    def changes(self) -> LayerChanges:
        """The layer's whiteouts and opaque directories."""

    def filesystem(self) -> FileSystem:
        """The layer's own files."""

@final
class Container(_Handle):
    """A container of a daemon runtime; closing the object leaves the container."""

    @property
    def id(self) -> str:
        """The container's ID (on containerd, its name)."""

    def inspect(self) -> ContainerInspect:
        """The inspect document."""

    def start(self) -> None:
        """Starts the container's init process."""

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""

    def kill(self, signal: int = 9) -> None:
        """Sends `signal` to the init process."""

    def pause(self) -> None:
        """Freezes every process of the container."""

    def resume(self) -> None:
        """Thaws a paused container."""

    def delete(self, force: bool = False) -> None:
        """Deletes the container; a running one needs `force`."""

    def wait(self, timeout: float | None = None) -> int:
        """Waits for the init process to exit; returns its exit code."""

    def update_resources(self, **resources: Unpack[Resources]) -> None:
        """Changes resource limits."""

    def processes(self) -> Iterator[ProcessInfo]:
        """The container's processes, read from the host's /proc."""

    def filesystem(self) -> FileSystem:
        """The container's root filesystem as it is now (read-only)."""

    def changes(self) -> Iterator[Change]:
        """What the container changed relative to its image, sorted by path."""

    def exec_output(
        self,
        args: str | Iterable[str],
        *,
        input: _Bytes | None = None,
        timeout: float | None = None,
        **options: Unpack[ExecOutputOptions],
    ) -> ExecResult:
        """Runs a process to its end; returns its exit code and output."""

    def exec(self, args: str | Iterable[str], **options: Unpack[ExecOptions]) -> Process:
        """Starts a process and returns at once."""

    def attach(self) -> Process:
        """Attaches to the init process (Docker, Podman)."""

    def logs(self, **options: Unpack[LogOptions]) -> Stream[LogChunk]:
        """The container's log (Docker, Podman)."""

    def stats(self, stream: bool = False) -> Stream[Stats]:
        """Resource use (Docker, Podman): one sample, or with `stream` one a second."""

    def rename(self, name: str) -> None:
        """Renames the container (Docker, Podman)."""

    def export(self, path: _StrPath) -> None:
        """Writes the container's filesystem as a tar to `path` on this host."""

    def commit(self, **options: Unpack[CommitOptions]) -> str:
        """Makes an image of the container (Docker, Podman); returns its ID."""

    def archive(self, path: str, dest: _StrPath) -> None:
        """Writes `path` of the container as a tar to `dest` on this host."""

@final
class Process(_Handle):
    """A running process: iterate it for its events, feed its stdin with write()."""

    def __iter__(self) -> Process: ...
    def __next__(self) -> ProcessEvent: ...
    def next_event(self, timeout: float | None = None) -> ProcessEvent | None:
        """The next event, waiting up to `timeout` seconds; None after the exit."""

    @property
    def exit_code(self) -> int | None:
        """The exit code, once the exit event was read."""

    def write(self, data: _Bytes) -> None:
        """Writes `data` to the process's stdin."""

    def close_stdin(self) -> None:
        """Closes the process's stdin."""

    def resize(self, width: int, height: int) -> None:
        """Resizes the process's terminal."""

    def kill(self, signal: int = 9) -> None:
        """Sends `signal` to the process."""

@final
class Pod(_Handle):
    """A pod (Podman); closing the object leaves the pod."""

    @property
    def id(self) -> str:
        """The pod's ID."""

    def inspect(self) -> PodInspect:
        """The inspect document."""

    def start(self) -> None:
        """Starts every container of the pod."""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""

    def kill(self, signal: int = 9) -> None:
        """Sends `signal` to the pod's containers."""

    def pause(self) -> None:
        """Freezes the pod's containers."""

    def resume(self) -> None:
        """Thaws the pod's containers."""

    def remove(self, force: bool = False) -> None:
        """Removes the pod with its containers; a running pod needs `force`."""

@final
class Stream(_Handle, Generic[_T_co]):
    """Items of one stream, read in order; closing it cancels its work."""

    def __iter__(self) -> Stream[_T_co]: ...
    def __next__(self) -> _T_co: ...
    @classmethod
    def __class_getitem__(cls, item: Any) -> types.GenericAlias: ...
    def next(self, timeout: float | None = None) -> _T_co | None:
        """The next item, waiting up to `timeout` seconds; None when done."""

    def skip_dir(self) -> None:
        """For FileSystem.scan(): do not descend into the directory just returned."""

@final
class FileSystem(_Handle):
    """A read-only filesystem: an image's, a layer's or a container's."""

    def stat(self, path: str) -> StatResult:
        """The metadata of `path`, symlinks followed."""

    def lstat(self, path: str) -> StatResult:
        """The metadata of `path` itself."""

    def readlink(self, path: str) -> str:
        """A symlink's target, as stored."""

    def realpath(self, path: str) -> str:
        """Where `path` resolves, every symlink followed inside this filesystem."""

    def scandir(self, path: str = "/") -> Iterator[DirEntry]:
        """The entries of directory `path` in name order (like os.scandir)."""

    def listdir(self, path: str = "/") -> list[str]:
        """The names in directory `path` in name order (like os.listdir)."""

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        """The whole regular file at `path`, at most `limit` bytes (None: 64 MiB).

        A bigger file raises InvalidArgumentError before any of it is read (stream it
        with open()); a limit below 1 raises ValueError.
        """

    def read_text(
        self, path: str, encoding: str = "utf-8", errors: str = "strict", limit: int | None = None
    ) -> str:
        """The file at `path`, decoded; `limit` as for read_bytes."""

    # buffering=0 gives the raw File; any other value a BufferedReader over it.
    @overload
    def open(self, path: str, buffering: Literal[0]) -> File:  # type: ignore[overload-overlap]
        """Opens the regular file at `path` for reading, like open(path, "rb")."""

    @overload
    def open(self, path: str, buffering: int = -1) -> io.BufferedReader: ...
    def walk(
        self, top: str = "/", topdown: bool = True, onerror: Callable[[_WalkError], object] | None = None
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        """Walks the tree below `top` like os.walk; symlinks are not followed."""

    def scan(self, root: str = "/") -> Stream[tuple[str, StatResult]]:
        """Every entry below `root`, depth first, in one library call."""

@final
class RawFile(_Handle):
    """An open file: the handle under berth.File (internal)."""

    def readinto(self, buffer: Buffer) -> int:
        """Reads into `buffer` at the file position; 0 at the end of the file."""

    def pread(self, size: int, offset: int) -> bytes:
        """Reads up to `size` bytes at `offset`, the position left as it is."""

    def seek(self, offset: int, whence: int = 0) -> int:
        """Moves the position (`whence` as for os.lseek); returns the new position."""

    def stat(self) -> StatResult:
        """The file's metadata (`path` set)."""
