"""Containers on the harness' real containerd, dockerd and Podman, through the Python package.
Each test runs on each of them (the `daemon` fixture); `container_of` deletes what it made."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

import berth
from conftest import TEST_IMAGE, ContainerFactory


def backend(rt: berth.Runtime) -> str:
    return str(rt.info["kind"])


def test_run_to_exit_then_read_what_it_wrote(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sh", "-c", "echo made-by-python > /result.txt; exit 3")
    assert c.wait(timeout=60) == 3
    summary = next(s for s in daemon.containers() if s["id"] == c.id)
    assert summary["state"]["status"] == "stopped" and summary["state"]["exit_code"] == 3
    with c.filesystem() as fs:
        assert fs.read_bytes("/result.txt") == b"made-by-python\n"
        assert fs.stat("/bin/sh").type in ("file", "symlink")
    assert {"path": "/result.txt", "kind": "added"} in list(c.changes())
    c.delete()
    with pytest.raises(berth.NotFoundError):
        c.inspect()


def test_exec_output_collects_streams_exit_code_and_stdin(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    result = c.exec_output(["sh", "-c", "echo out; echo err >&2; exit 4"])
    assert result == berth.ExecResult(4, b"out\n", b"err\n")
    assert result.exit_code == 4 and result.stdout == b"out\n"
    assert c.exec_output(["cat"], input=b"fed through stdin").stdout == b"fed through stdin"
    # An empty input is an empty stdin: cat reads EOF at once.
    assert c.exec_output(["cat"], input=b"", timeout=30).exit_code == 0
    env = c.exec_output(["sh", "-c", "echo $GREETING; pwd"], env=["GREETING=hello"], cwd="/tmp")
    assert env.stdout == b"hello\n/tmp\n"
    with pytest.raises(berth.TimeoutError) as e:
        c.exec_output(["sleep", "30"], timeout=0.5)
    assert isinstance(e.value, TimeoutError)


def test_exec_streams_events_and_takes_stdin(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    with c.exec(["sh", "-c", "cat; echo done >&2; exit 5"], stdin=True) as p:
        assert p.exit_code is None
        p.write(b"hello ")
        p.write(b"python")
        p.close_stdin()
        events = list(p)
    out = b"".join(e.data for e in events if e.kind == "stdout")
    err = b"".join(e.data for e in events if e.kind == "stderr")
    assert (out, err) == (b"hello python", b"done\n")
    assert events[-1] == berth.ProcessEvent("exit", b"", 5)
    assert p.exit_code == 5
    # next_event with a timeout: nothing yet is TimeoutError, and the process goes on.
    with c.exec(["sh", "-c", "sleep 2; echo late"]) as p:
        with pytest.raises(berth.TimeoutError):
            p.next_event(timeout=0.2)
        first = p.next_event(timeout=30)
        assert first is not None and first.data == b"late\n"


def test_stop_kill_pause_resume_and_delete(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    c.pause()
    assert c.inspect()["state"]["status"] == "paused"
    c.resume()
    assert c.inspect()["state"]["status"] == "running"
    with pytest.raises(berth.ConflictError):
        c.delete()  # running, no force: nothing changes
    assert c.inspect()["state"]["status"] == "running"
    # sleep as pid 1 ignores SIGTERM: the stop ends with SIGKILL, 128 + 9.
    assert c.stop(timeout=0.5) == 137
    with pytest.raises(berth.ConflictError):
        c.stop()
    c.delete()
    k = container_of("sleep", "300")
    k.kill(signal.SIGKILL)
    assert k.wait(timeout=60) == 137
    with pytest.raises(berth.InvalidArgumentError):
        k.kill(0)


def test_find_open_and_filter_containers(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300", labels={"berth.py": "find"})
    name = c.inspect()["names"][0].lstrip("/")
    with daemon.open_container(name) as again:
        assert again.id == c.id
    assert [s["id"] for s in daemon.find_containers(name)] == [c.id]
    label_filter = 'labels."berth.py"==find' if backend(daemon) == "containerd" else "label=berth.py=find"
    assert [s["id"] for s in daemon.containers([label_filter])] == [c.id]
    with pytest.raises(berth.NotFoundError):
        daemon.open_container("berth-py-no-such-container")
    with pytest.raises(berth.AlreadyExistsError):
        daemon.create_container(TEST_IMAGE, name=name, args=["true"])
    with pytest.raises(berth.InvalidArgumentError) as e:
        daemon.create_container(TEST_IMAGE, no_such_option=1)  # type: ignore[call-arg]
    assert "no_such_option" in str(e.value)


def test_events_report_the_exit(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    with daemon.events() as events:
        c = container_of("sh", "-c", "exit 7")
        assert c.wait(timeout=60) == 7
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            event = events.next(timeout=5)
            assert event is not None
            if event["kind"] == "task-exit" and event["container_id"] == c.id:
                assert event["exit_code"] == 7
                break
        else:
            pytest.fail("no task-exit event for the container")


def test_logs_and_stats_on_docker_not_supported_on_containerd(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sh", "-c", "echo to-out; echo to-err >&2")
    assert c.wait(timeout=60) == 0
    if backend(daemon) == "containerd":
        with pytest.raises(berth.NotSupportedError):
            c.logs()
        return
    with c.logs() as logs:
        chunks = list(logs)
    assert berth.LogChunk("stdout", b"to-out\n") in chunks
    assert berth.LogChunk("stderr", b"to-err\n") in chunks
    running = container_of("sleep", "300")
    with running.stats() as stats:
        sample = next(stats)
        assert sample["pids"] >= 1 and sample["memory_usage"] > 0
        assert stats.next() is None  # one sample, then the end


def test_processes_of_a_running_container(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sleep", "300")
    procs = list(c.processes())
    assert any(p["cmdline"] == ["sleep", "300"] for p in procs)


def test_pull_streams_progress_then_the_image(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    reference = os.environ.get("BERTH_TEST_REGISTRY_IMAGE")
    if not reference:
        pytest.skip("BERTH_TEST_REGISTRY_IMAGE is not set")
    # A pull of an image the store has already reports no blobs: start without it.
    try:
        daemon.remove_image(reference)
    except berth.NotFoundError:
        pass
    with daemon.pull(reference, plain_http=True) as stream:
        progress = list(stream)
    last = progress[-1]
    assert last["status"] == "complete"
    assert any(t.endswith("/berth/busybox:v1") for t in last["image"]["repo_tags"]), last
    assert all(p["offset"] <= p["total"] for p in progress if p["status"] == "downloading")
    if backend(daemon) == "containerd":
        assert any(p["status"] in ("done", "exists") for p in progress), progress
    # The pulled image is there and runs.
    assert [i["id"] for i in daemon.find_images(reference)] == [last["image"]["id"]]
    c = daemon.create_container(reference, args=["/bin/true"])
    container_of.made.append(c)
    c.start()
    assert c.wait(timeout=60) == 0
    # A registry that refuses anonymous pulls.
    auth = os.environ.get("BERTH_TEST_REGISTRY_AUTH")
    if auth:
        with daemon.pull(f"{auth}/berth/busybox:v1", plain_http=True) as denied:
            with pytest.raises(berth.PermissionDeniedError):
                list(denied)


def test_attach_follows_the_init_process(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    c = container_of("sh", "-c", "read line; echo got:$line; echo bye >&2; exit 2", start=False, stdin=True)
    if backend(daemon) == "containerd":
        with pytest.raises(berth.NotSupportedError):
            c.attach()
        return
    # Attached before the start, so none of the output is missed.
    with c.attach() as p:
        c.start()
        p.write(b"hello\n")
        p.close_stdin()
        events = list(p)
    assert b"".join(e.data for e in events if e.kind == "stdout") == b"got:hello\n"
    assert b"".join(e.data for e in events if e.kind == "stderr") == b"bye\n"
    assert p.exit_code == 2 and c.wait(timeout=60) == 2


def test_pods_on_podman(daemon: berth.Runtime, container_of: ContainerFactory) -> None:
    if backend(daemon) != "podman":
        with pytest.raises(berth.NotSupportedError):
            list(daemon.pods())
        return
    name = f"berth-py-pod-{uuid.uuid4().hex[:8]}"
    with daemon.create_pod(name=name, labels={"berth.py": "pod"}) as pod:
        try:
            assert any(p["id"] == pod.id and p["name"] == name for p in daemon.pods())
            c = container_of("sleep", "300", start=False, pod=name)
            pod.start()
            assert c.inspect()["pod"] == pod.id
            pod.pause()
            assert c.inspect()["state"]["status"] == "paused"
            pod.resume()
            with pytest.raises(berth.ConflictError):
                pod.remove()  # running: needs force
            pod.stop(timeout=1)
            assert c.inspect()["state"]["status"] == "stopped"
            with daemon.open_pod(name) as again:
                assert again.id == pod.id and again.inspect()["name"] == name
        finally:
            pod.remove(force=True)
        with pytest.raises(berth.NotFoundError):
            daemon.open_pod(name)
