"""The Python shapes of what libberth returns: stat results like os.stat_result,
directory entries like os.DirEntry, os.walk, io.RawIOBase files, and the small tuples
of exec output, process events and log chunks.

These only reshape documents (docs/schemas.md); every answer comes from the library.
"""

from __future__ import annotations

import base64
import io
import os
import posixpath
import stat as _stat
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Optional

if TYPE_CHECKING:
    from ._native import FileSystem, RawFile

_TYPE_BITS = {
    "file": _stat.S_IFREG,
    "dir": _stat.S_IFDIR,
    "symlink": _stat.S_IFLNK,
    "char": _stat.S_IFCHR,
    "block": _stat.S_IFBLK,
    "fifo": _stat.S_IFIFO,
    "socket": _stat.S_IFSOCK,
}


class StatResult(tuple):  # type: ignore[type-arg]
    """The metadata of a file, shaped like os.stat_result: the ten items of a tuple and
    the st_* attributes (st_mode carries the file type bits, so the `stat` module's
    S_ISDIR and friends work), plus what images carry beyond it: `type` ("file", "dir",
    "symlink", ...), `link` (a symlink's target), `xattrs`, and `path` (for
    File.stat()). Images keep one time, the modification time; st_atime and st_ctime
    repeat it. st_ino and st_dev are 0: files of an image have no inode."""

    st_mode: int
    st_ino: int
    st_dev: int
    st_nlink: int
    st_uid: int
    st_gid: int
    st_size: int
    st_atime: float
    st_mtime: float
    st_ctime: float
    st_atime_ns: int
    st_mtime_ns: int
    st_ctime_ns: int
    st_rdev: int
    type: str
    link: Optional[str]
    xattrs: dict[str, str]
    path: Optional[str]

    def __new__(cls, doc: dict[str, Any]) -> "StatResult":
        mode = _TYPE_BITS.get(doc["type"], 0) | doc["mode"]
        mtime = doc["mtime"]
        self = super().__new__(cls, (mode, 0, 0, 1, doc["uid"], doc["gid"], doc["size"], mtime, mtime, mtime))
        mtime_ns = mtime * 1_000_000_000 + doc.get("mtime_nsec", 0)
        self.st_mode = mode
        self.st_ino = 0
        self.st_dev = 0
        self.st_nlink = 1
        self.st_uid = doc["uid"]
        self.st_gid = doc["gid"]
        self.st_size = doc["size"]
        self.st_mtime_ns = self.st_atime_ns = self.st_ctime_ns = mtime_ns
        self.st_mtime = self.st_atime = self.st_ctime = mtime_ns / 1e9
        self.st_rdev = os.makedev(doc.get("dev_major", 0), doc.get("dev_minor", 0))
        self.type = doc["type"]
        self.link = doc.get("link")
        self.xattrs = doc.get("xattrs", {})
        self.path = doc.get("path")
        return self

    def __repr__(self) -> str:
        return (
            f"berth.StatResult(type={self.type!r}, st_mode={self.st_mode:#o}, st_uid={self.st_uid}, "
            f"st_gid={self.st_gid}, st_size={self.st_size}, st_mtime={self.st_mtime}, link={self.link!r})"
        )


class DirEntry:
    """One entry of FileSystem.scandir(), shaped like os.DirEntry."""

    __slots__ = ("_fs", "name", "path", "_lstat", "_stat")

    def __init__(self, fs: "FileSystem", dirpath: str, doc: dict[str, Any]) -> None:
        self._fs = fs
        self.name: str = doc["name"]
        self.path: str = posixpath.join(dirpath, self.name)
        self._lstat = StatResult(doc)
        self._stat: Optional[StatResult] = None

    def is_symlink(self) -> bool:
        return self._lstat.type == "symlink"

    def stat(self, *, follow_symlinks: bool = True) -> StatResult:
        """The entry's metadata; a symlink is followed (inside the filesystem) unless
        follow_symlinks is False."""
        if not follow_symlinks or not self.is_symlink():
            return self._lstat
        if self._stat is None:
            self._stat = self._fs.stat(self.path)
        return self._stat

    def _is(self, type_: str, follow_symlinks: bool) -> bool:
        if follow_symlinks and self.is_symlink():
            # A dangling symlink is neither, as for os.DirEntry.
            try:
                return self.stat().type == type_
            except LookupError:
                return False
        return self._lstat.type == type_

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._is("dir", follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._is("file", follow_symlinks)

    def inode(self) -> int:
        return 0

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<berth.DirEntry {self.name!r}>"


def walk(
    fs: "FileSystem", top: str, topdown: bool, onerror: Optional[Callable[[BaseException], object]]
) -> Iterator[tuple[str, list[str], list[str]]]:
    """FileSystem.walk(): os.walk over FileSystem.scandir(), with os.walk's rules: a
    symlink to a directory is listed in dirnames but not descended into; top-down,
    the caller may prune dirnames in place; an unreadable directory goes to onerror."""
    stack: list[Any] = [top]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):  # bottom-up: a directory whose subdirectories are done
            yield item
            continue
        try:
            entries = list(fs.scandir(item))
        except (OSError, LookupError, ValueError) as e:
            if onerror is not None:
                onerror(e)
            continue
        dirnames, filenames, walk_into = [], [], set()
        for entry in entries:
            if entry.is_dir():
                dirnames.append(entry.name)
                if not entry.is_symlink():
                    walk_into.add(entry.path)
            else:
                filenames.append(entry.name)
        if topdown:
            yield item, dirnames, filenames
        else:
            stack.append((item, dirnames, filenames))
        # Descend into dirnames in order (top-down, what the caller left of it); the stack
        # pops the last pushed first.
        for name in reversed(dirnames):
            path = posixpath.join(item, name)
            if path in walk_into:
                stack.append(path)


class File(io.RawIOBase):
    """An open file of a FileSystem: a read-only, seekable io.RawIOBase, so tarfile,
    shutil.copyfileobj, hashlib's chunked reads and io.BufferedReader work on it."""

    def __init__(self, raw: "RawFile", name: str) -> None:
        super().__init__()
        self._raw = raw
        self.name = name
        self.mode = "rb"

    def readable(self) -> bool:
        self._check_open()
        return True

    def seekable(self) -> bool:
        self._check_open()
        return True

    def readinto(self, buffer: Any) -> int:
        return self._raw.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.seek(0, io.SEEK_CUR)

    def pread(self, size: int, offset: int) -> bytes:
        """Up to `size` bytes at `offset`, the position left where it is."""
        return self._raw.pread(size, offset)

    def stat(self) -> StatResult:
        """The file's metadata (`path` set)."""
        return self._raw.stat()

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def __repr__(self) -> str:
        return f"<berth.File name={self.name!r}{' closed' if self.closed else ''}>"


def open_file(raw: "RawFile", path: str, buffering: int) -> "File | io.BufferedReader":
    """FileSystem.open(): the raw File, or a BufferedReader over it, as open() does."""
    f = File(raw, path)
    if buffering == 0:
        return f
    size = buffering if buffering > 1 else io.DEFAULT_BUFFER_SIZE
    return io.BufferedReader(f, buffer_size=size)


class ExecResult(NamedTuple):
    """What Container.exec_output() collected."""

    exit_code: int
    stdout: bytes
    stderr: bytes


class ProcessEvent(NamedTuple):
    """One event of a Process: `kind` "stdout" or "stderr" with `data`, or "exit" with
    `exit_code`."""

    kind: str
    data: bytes
    exit_code: Optional[int]


class LogChunk(NamedTuple):
    """Bytes of a container's log: `stream` "stdout" or "stderr"."""

    stream: str
    data: bytes


def log_chunk(doc: dict[str, Any]) -> LogChunk:
    return LogChunk(doc["stream"], base64.b64decode(doc["data_base64"]))


def walk_item(doc: dict[str, Any]) -> tuple[str, StatResult]:
    return doc["path"], StatResult(doc)


# Shown as berth.StatResult, ..., where users import them from.
for _cls in (StatResult, DirEntry, File, ExecResult, ProcessEvent, LogChunk):
    _cls.__module__ = "berth"
