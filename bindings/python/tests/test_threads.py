"""Threads: one Runtime shared by 8 threads, the GIL released while a call blocks, and a
close from another thread waking a blocked call."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest

import berth
from conftest import BIG, ContainerFactory

THREADS = 8


def run_in_threads(work: Callable[[int], object]) -> list[object]:
    """Runs work(0..7) on 8 threads started together; re-raises the first failure."""
    start = threading.Barrier(THREADS)

    def task(i: int) -> object:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(task, range(THREADS)))


def test_eight_threads_share_one_offline_runtime(sample: berth.Runtime, fixture_image: berth.FileSystem) -> None:
    want = hashlib.sha256(BIG).hexdigest()
    with sample.open_image("sample") as image, image.filesystem() as fs:
        expected = {p: fs.read_bytes(p) for p in ("/etc/os-release", "/etc/motd", "/usr/share/doc/sample/CHANGES")}

    def work(i: int) -> int:
        reads = 0
        for _ in range(30):
            # Each thread opens its own objects from the shared runtime...
            with sample.open_image("sample") as image, image.filesystem() as fs:
                for path, data in expected.items():
                    assert fs.read_bytes(path) == data
                    reads += 1
                assert len(list(fs.walk("/"))) == 10
            # ... and all of them read one shared filesystem, each through its own file.
            with fixture_image.open("/data/big.bin") as f:
                f.seek(i * 1000)
                assert f.read(1000) == BIG[i * 1000 : i * 1000 + 1000]
                f.seek(0)
                assert hashlib.sha256(f.read()).hexdigest() == want
        return reads

    assert run_in_threads(work) == [90] * THREADS


def test_eight_threads_share_one_daemon_runtime(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    cid = c.id

    def work(i: int) -> bytes:
        out = b""
        for j in range(5):
            with daemon.open_container(cid) as mine:
                result = mine.exec_output(["sh", "-c", f"echo {i}-{j}"], timeout=60)
                assert result.exit_code == 0
                out += result.stdout
        assert any(s["id"] == cid for s in daemon.containers())
        return out

    outputs = run_in_threads(work)
    assert outputs == ["".join(f"{i}-{j}\n" for j in range(5)).encode() for i in range(THREADS)]


def test_the_gil_is_released_while_a_call_blocks(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    counted = 0
    blocked = threading.Event()
    finished = threading.Event()

    def count() -> None:
        nonlocal counted
        blocked.wait()
        while not finished.is_set():
            counted += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        blocked.set()
        began = time.monotonic()
        with pytest.raises(berth.TimeoutError):
            c.wait(timeout=1.5)  # blocks in the library for 1.5 s
        waited = time.monotonic() - began
    finally:
        finished.set()
        counter.join()
    assert waited >= 1.4
    # Had the call held the GIL, the counting thread could not have run meanwhile.
    assert counted > 10_000, counted


def test_closing_a_stream_from_another_thread_wakes_its_reader(daemon: berth.Runtime) -> None:
    events = daemon.events()
    caught: list[BaseException] = []

    def read() -> None:
        try:
            while events.next() is not None:  # waits for events until the close
                pass
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            caught.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)
    events.close()
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert len(caught) == 1 and isinstance(caught[0], berth.CancelledError), caught
