"""Misuse raises the right exception and never takes the interpreter down: closed
objects, bad arguments, daemons that are not there, objects left to the collector."""

from __future__ import annotations

import gc
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Callable

import pytest

import berth
from conftest import SAMPLE


def open_descriptors_of(path: pathlib.Path) -> int:
    """How many of this process' descriptors are open on `path`."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            pass
    return count


def test_every_class_raises_invalid_handle_after_close(sample: berth.Runtime) -> None:
    image = sample.open_image("sample")
    fs = image.filesystem()
    layer = image.layers[0]
    stream = fs.scan("/")
    for obj in (image, fs, layer, stream):
        assert not obj.closed
        obj.close()
        assert obj.closed
        obj.close()  # again: nothing happens, as for files
    calls: list[Callable[[], object]] = [image.inspect, lambda: image.id, fs.listdir, lambda: fs.stat("/etc"), layer.inspect, stream.next]
    for call in calls:
        with pytest.raises(berth.InvalidHandleError) as e:
            call()
        assert isinstance(e.value, ValueError) and "closed" in str(e.value)
    with pytest.raises(berth.InvalidHandleError):
        next(stream)
    rt = berth.connect(f"oci-archive://{SAMPLE}")
    rt.close()
    with pytest.raises(berth.InvalidHandleError):
        list(rt.images())
    with pytest.raises(berth.InvalidHandleError):
        rt.open_image("sample")


def test_with_blocks_close_and_exceptions_pass_through(sample: berth.Runtime) -> None:
    with pytest.raises(KeyError):
        with sample.open_image("sample") as image:
            raise KeyError("from the body")
    assert image.closed
    with pytest.raises(berth.InvalidHandleError):
        image.inspect()


def test_objects_outlive_what_opened_them() -> None:
    # The C ABI keeps what an object needs alive; closing in any order is safe.
    rt = berth.connect(f"oci-archive://{SAMPLE}")
    image = rt.open_image("sample")
    rt.close()
    fs = image.filesystem()
    image.close()
    f = fs.open("/etc/os-release")
    fs.close()
    assert b"ID=berth-sample" in f.read()
    f.close()


def test_files_behave_like_closed_python_files_after_close(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        f = fs.open("/etc/motd", buffering=0)
        f.close()
        f.close()
        for call in (f.read, f.readable, f.tell, lambda: f.seek(0)):
            with pytest.raises(ValueError):
                call()
        with pytest.raises(berth.InvalidArgumentError, match="is a directory"):
            fs.open("/etc")
        with fs.open("/etc/motd", buffering=0) as f2:
            with pytest.raises((TypeError, BufferError)):
                f2.readinto(b"read-only bytes")


def test_bad_arguments_raise_python_errors(sample: berth.Runtime, tmp_path: pathlib.Path) -> None:
    with pytest.raises(berth.InvalidArgumentError) as e:
        berth.connect("no scheme at all")
    assert isinstance(e.value, ValueError) and "scheme" in str(e.value)
    with pytest.raises(berth.InvalidArgumentError) as e:
        berth.connect(f"oci-archive://{SAMPLE}", timeout_msec=5)  # type: ignore[call-arg]
    assert "timeout_msec" in str(e.value)
    with pytest.raises(berth.NotSupportedError):
        berth.connect("cri:///run/nowhere.sock")
    with pytest.raises(ValueError, match="null"):
        sample.open_image("sample\0latest")
    with pytest.raises(TypeError):
        sample.open_image(42)  # type: ignore[arg-type]
    with pytest.raises(berth.InvalidArgumentError):
        sample.open_image("")
    with sample.open_image("sample") as image, image.filesystem() as fs:
        with pytest.raises(berth.NotFoundError):
            fs.stat("no/such/relative/path")
        with pytest.raises(ValueError):
            fs.scan("/").next(timeout=-1)
        with pytest.raises(TypeError):
            fs.read_bytes(None)  # type: ignore[arg-type]


def test_a_daemon_that_is_not_there_is_unavailable(tmp_path: pathlib.Path) -> None:
    for endpoint in (f"containerd://{tmp_path}/none.sock", f"docker://{tmp_path}/none.sock"):
        with pytest.raises(berth.UnavailableError) as e:
            with berth.connect(endpoint, timeout_ms=2000) as rt:
                list(rt.containers())
        assert isinstance(e.value, ConnectionError) and "none.sock" in str(e.value)


def test_misuse_of_daemon_objects(daemon: berth.Runtime) -> None:
    c = daemon.create_container("example.com/busybox:latest", args=["sleep", "300"])
    try:
        with pytest.raises((berth.ConflictError, berth.NotFoundError)):
            c.pause()  # not running yet (the C ABI documents either)
        c.start()
        p = c.exec(["cat"])
        with pytest.raises(berth.InvalidArgumentError):
            p.write(b"no stdin was asked for")
        p.close()
        with pytest.raises(berth.InvalidHandleError):
            p.next_event(timeout=1)
        with pytest.raises(ValueError):
            c.wait(timeout=float("nan"))
        with pytest.raises(ValueError):
            c.stop(timeout=-1)
    finally:
        c.delete(force=True)
    with pytest.raises(berth.NotFoundError):
        c.start()
    c.close()
    with pytest.raises(berth.InvalidHandleError):
        c.start()


def test_the_collector_closes_what_was_left_open() -> None:
    before = open_descriptors_of(SAMPLE)
    left = []
    for _ in range(20):
        rt = berth.connect(f"oci-archive://{SAMPLE}")
        image = rt.open_image("sample")
        left.append((rt, image, image.filesystem().open("/etc/motd")))
    assert open_descriptors_of(SAMPLE) >= before + 20
    del left, rt, image
    gc.collect()
    assert open_descriptors_of(SAMPLE) == before


def test_the_interpreter_survives_misuse_and_exit_with_open_objects() -> None:
    # In a child interpreter: misuse, then exit with objects open (closed at finalization).
    script = textwrap.dedent(
        f"""
        import berth, threading
        rt = berth.connect("oci-archive://{SAMPLE}")
        image = rt.open_image("sample")
        fs = image.filesystem()
        f = fs.open("/etc/motd")
        stream = fs.scan("/")
        next(stream)
        image.close(); image.close()
        for call in (image.inspect, lambda: berth.connect("x://"), lambda: fs.stat("")):
            try:
                call()
            except berth.Error:
                pass
        t = threading.Thread(target=lambda: list(fs.walk("/")))
        t.start(); t.join()
        print("ok", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_unknown_status_still_raises_a_berth_error() -> None:
    from berth._errors import error_for

    e = error_for(-99, "from a newer library")
    assert type(e) is berth.Error and e.status == -99 and str(e) == "from a newer library"
    assert isinstance(error_for(-1, "x"), berth.NotFoundError)
    assert error_for(-8, "late").kind == "timeout" and isinstance(error_for(-8, "late"), TimeoutError)

