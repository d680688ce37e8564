"""Stress (issue 11): 16 Python threads x 1,000 mixed calls on SHARED objects, every
result compared with a serial run of the same calls; the twin of tests/c/test_stress.c.

The images: the sample image and the bigger one of tests/stress_image.py (2,000 files
in two gzip layers, a 6 MiB file). Each thread has its own list of calls from a seeded
generator: open an image, open a filesystem, stat, lstat, listdir, read a small file
whole, open a file and read it, pread on a File every thread shares, walk a directory,
and "victim" calls: use or close one of a pool of objects (filesystems, Files, images)
that the threads close under each other. The lists run first in one thread (nothing
closed), then on 16 threads at once. A call must give the serial result, except a call
on a victim: one that starts after its victim's close returned must raise
InvalidHandleError; one that runs while it is closed may give either. Descriptors and
threads of the process come back to their count before the run.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

import berth
from conftest import REPO, SAMPLE

THREADS = 16
CALLS = 1000
VICTIMS_PER_IMAGE = 24

OPS = ["open image", "open fs", "stat", "lstat", "listdir", "read_bytes", "open+read", "pread shared",
       "walk", "use victim", "close victim"]
WEIGHTS = [4, 4, 14, 8, 10, 8, 8, 14, 6, 24, 2]


@dataclass
class ImageCtx:
    endpoint: str
    pattern: str
    rt: berth.Runtime
    image: berth.Image
    fs: berth.FileSystem
    files: list[tuple[str, int]] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    shared: Any = None  # a File every thread preads
    shared_size: int = 0

    def close(self) -> None:
        self.shared.close()
        self.fs.close()
        self.image.close()
        self.rt.close()


@dataclass
class Victim:
    kind: str  # "fs", "file" or "image"
    img: int
    path: str
    obj: Any = None
    closed: threading.Event = field(default_factory=threading.Event)
    close_oks: int = 0
    # Serialises the closers only (a second close() is a silent no-op in Python, so
    # this is how the test knows which close did it); users never take it.
    closing: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Call:
    op: str
    img: int
    arg: int = 0
    offset: int = 0


@pytest.fixture(scope="module")
def stress_archive(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("stress") / "stress.oci.tar"
    subprocess.run([sys.executable, str(REPO / "tests" / "stress_image.py"), str(out)], check=True)
    return out


def open_image(endpoint: str, pattern: str) -> ImageCtx:
    rt = berth.connect(endpoint)
    image = rt.open_image(pattern)
    ctx = ImageCtx(endpoint, pattern, rt, image, image.filesystem())
    for path, st in ctx.fs.scan("/"):
        ctx.paths.append(path)
        if st.type == "dir":
            ctx.dirs.append(path)
        elif st.type == "file":
            ctx.files.append((path, st.st_size))
    biggest = max(ctx.files, key=lambda f: f[1])
    ctx.shared, ctx.shared_size = ctx.fs.open(biggest[0], buffering=0), biggest[1]
    return ctx


def make_calls(images: list[ImageCtx], victims: list[Victim], seed: int) -> list[Call]:
    rng = random.Random(seed)
    calls: list[Call] = []
    for _ in range(CALLS):
        img = rng.randrange(len(images))
        im = images[img]
        op = rng.choices(OPS, WEIGHTS)[0]
        c = Call(op, img)
        if op in ("stat", "lstat"):
            c.arg = rng.randrange(len(im.paths))
        elif op in ("listdir", "walk"):
            c.arg = rng.randrange(len(im.dirs))
        elif op in ("read_bytes", "open+read"):
            small = [i for i, (_, size) in enumerate(im.files) if size <= 256 << 10]
            c.arg = rng.choice(small)
        elif op == "pread shared":
            c.offset = rng.randrange(max(im.shared_size, 1))
        elif op == "use victim":
            # Half of the uses go to the victims being closed about now (below), so that
            # closes meet calls in progress; the others to any victim.
            now = len(calls) * len(victims) // CALLS
            c.arg = (now + rng.randrange(4)) % len(victims) if rng.random() < 0.5 else rng.randrange(len(victims))
            c.offset = rng.randrange(1 << 62)
        elif op == "close victim":
            # Victims are closed in turn as the lists go on: uses meet them open, being
            # closed, and closed.
            c.arg = (len(calls) * len(victims) // CALLS + rng.randrange(3)) % len(victims)
        calls.append(c)
    return calls


def open_victims(images: list[ImageCtx], victims: list[Victim]) -> None:
    for v in victims:
        im = images[v.img]
        v.closed = threading.Event()
        v.close_oks = 0
        if v.kind == "fs":
            v.obj = im.image.filesystem()
        elif v.kind == "file":
            v.obj = im.fs.open(v.path, buffering=0)
        else:
            v.obj = im.rt.open_image(im.pattern)


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def reraise(e: BaseException) -> None:
    """A walk's onerror that raises: os.walk's default ignores errors, which would turn
    a closed filesystem into an empty walk."""
    raise e


def run_call(c: Call, images: list[ImageCtx], victims: list[Victim], concurrent: bool) -> object:
    """The call's result (a comparable value), or the class of the berth error it raised."""
    im = images[c.img]
    try:
        if c.op == "open image":
            with im.rt.open_image(im.pattern) as image:
                return image.id
        if c.op == "open fs":
            with im.image.filesystem() as fs:
                return tuple(fs.stat("/"))
        if c.op == "stat":
            return tuple(im.fs.stat(im.paths[c.arg]))
        if c.op == "lstat":
            return tuple(im.fs.lstat(im.paths[c.arg]))
        if c.op == "listdir":
            return im.fs.listdir(im.dirs[c.arg])
        if c.op == "read_bytes":
            return digest(im.fs.read_bytes(im.files[c.arg][0]))
        if c.op == "open+read":
            with im.fs.open(im.files[c.arg][0]) as f:
                return digest(f.read())
        if c.op == "pread shared":
            return digest(im.shared.pread(65536, c.offset))
        if c.op == "walk":
            return digest(list(im.fs.walk(im.dirs[c.arg], onerror=reraise)))
        v = victims[c.arg]
        vim = images[v.img]
        if c.op == "use victim":
            if v.kind == "fs" and c.offset % 2:
                return tuple(v.obj.stat(vim.paths[c.offset % len(vim.paths)]))
            if v.kind == "fs":  # a walk: a long use, which a close may meet
                return digest(list(v.obj.walk(vim.dirs[c.offset % len(vim.dirs)], onerror=reraise)))
            if v.kind == "file":  # 256 KiB of the biggest file: a long read
                return digest(v.obj.pread(256 << 10, c.offset % max(vim.shared_size, 1)))
            return v.obj.id
        # close victim: the serial run closes nothing.
        if concurrent:
            with v.closing:
                if not v.obj.closed:
                    v.obj.close()
                    v.close_oks += 1
                    v.closed.set()
        return None
    except berth.Error as e:
        return type(e)


def counts() -> tuple[int, int]:
    return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


@pytest.fixture
def stress_images(stress_archive: pathlib.Path) -> Iterator[list[ImageCtx]]:
    images = [open_image(f"oci-archive://{SAMPLE}", "sample"), open_image(f"oci-archive://{stress_archive}", "stress")]
    yield images
    for im in images:
        im.close()


def test_sixteen_threads_share_handles_with_results_identical_to_a_serial_run(stress_images: list[ImageCtx]) -> None:
    images = stress_images
    victims = []
    for img, im in enumerate(images):
        for k in range(VICTIMS_PER_IMAGE):
            kind = ("image", "fs", "file")[k % 3]
            victims.append(Victim(kind, img, max(im.files, key=lambda f: f[1])[0]))
    calls = [make_calls(images, victims, seed=t + 1) for t in range(THREADS)]

    open_victims(images, victims)
    serial = [[run_call(c, images, victims, False) for c in thread] for thread in calls]
    for v in victims:
        v.obj.close()
    # Only a dangling symlink's stat may fail (the stress image has links to whited-out
    # files); anything else would make the comparison hollow.
    failed = [(t, i, calls[t][i].op, r) for t, rs in enumerate(serial) for i, r in enumerate(rs)
              if isinstance(r, type) and not (r is berth.NotFoundError and calls[t][i].op in ("stat", "use victim"))]
    assert not failed, f"serial calls failed: {failed[:10]}"
    not_found = sum(1 for rs in serial for r in rs if r is berth.NotFoundError)
    assert not_found < THREADS * CALLS // 20

    fds_before, threads_before = counts()
    open_victims(images, victims)
    results: list[list[object]] = [[] for _ in range(THREADS)]
    started_closed: list[list[bool]] = [[] for _ in range(THREADS)]
    ended_closed: list[list[bool]] = [[] for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        start.wait()
        for c in calls[t]:
            started_closed[t].append(c.op == "use victim" and victims[c.arg].closed.is_set())
            results[t].append(run_call(c, images, victims, True))
            ended_closed[t].append(c.op == "use victim" and victims[c.arg].closed.is_set())

    began = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    elapsed = time.monotonic() - began

    same = closed_meanwhile = after_close = overlapped = 0
    mismatches: list[tuple[object, ...]] = []
    for t in range(THREADS):
        for i, c in enumerate(calls[t]):
            got, want = results[t][i], serial[t][i]
            if c.op == "close victim":
                continue
            overlapped += ended_closed[t][i] and not started_closed[t][i]
            if started_closed[t][i]:
                if got is berth.InvalidHandleError:
                    after_close += 1
                else:
                    mismatches.append((t, i, c.op, "used after its close returned", got))
            elif got == want:
                same += 1
            elif c.op == "use victim" and got is berth.InvalidHandleError:
                closed_meanwhile += 1
            else:
                mismatches.append((t, i, c.op, got, want))
    assert not mismatches, f"{len(mismatches)} results differ from the serial run: {mismatches[:10]}"
    assert after_close > 0, "no call met a victim after its close: the run did not test that"
    closed_by_threads = sum(1 for v in victims if v.close_oks)
    assert all(v.close_oks <= 1 for v in victims)
    for v in victims:
        v.obj.close()
        with pytest.raises(berth.InvalidHandleError):
            if v.kind == "file":
                v.obj.pread(1, 0)
            elif v.kind == "fs":
                v.obj.stat("/")
            else:
                _ = v.obj.id

    # Nothing left behind (idle worker threads of the library may take seconds to end).
    deadline = time.monotonic() + 30
    fds_after, threads_after = counts()
    while (fds_after > fds_before or threads_after > threads_before) and time.monotonic() < deadline:
        time.sleep(0.2)
        fds_after, threads_after = counts()
    print(f"\n{THREADS} threads x {CALLS} calls in {elapsed:.1f} s: {same} identical to the serial run, "
          f"{overlapped} uses of a victim closed during the call ({closed_meanwhile} of them InvalidHandleError), "
          f"{after_close} InvalidHandleError after a close; "
          f"{closed_by_threads} of {len(victims)} victims closed by the threads; "
          f"fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after}")
    assert fds_after <= fds_before
    assert threads_after <= threads_before
