"""Fixtures of the Python package's tests: the sample image, images built here, and the
daemons of the test harness (tests/harness, started by tests/run-all.sh).

Daemon tests need BERTH_TEST_CONTAINERD, BERTH_TEST_DOCKER and BERTH_TEST_PODMAN (the
harness exports them).
Outside CI a missing daemon skips its tests; under CI=true it fails them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pathlib
import tarfile
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

import berth

REPO = pathlib.Path(__file__).resolve().parents[3]
SAMPLE = REPO / "sample" / "sample.oci.tar"
TEST_IMAGE = os.environ.get("BERTH_TEST_IMAGE", "example.com/busybox:latest")
EPOCH = 1700000000


def daemon_endpoint(backend: str) -> str:
    """The endpoint of a harness daemon (as tests/kit/harness.rs forms it), or a skip (a
    failure under CI)."""
    variable = {"containerd": "BERTH_TEST_CONTAINERD", "docker": "BERTH_TEST_DOCKER", "podman": "BERTH_TEST_PODMAN"}[backend]
    socket = os.environ.get(variable)
    if not socket:
        message = f"{variable} is not set: run under tests/harness/with-daemons.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if backend in ("docker", "podman"):
        return f"{backend}://{socket}"
    endpoint = f"containerd://{socket}?namespace={os.environ.get('BERTH_TEST_NAMESPACE', 'default')}"
    if os.environ.get("BERTH_TEST_RUNC_ROOT"):
        endpoint += f"&runc_root={os.environ['BERTH_TEST_RUNC_ROOT']}"
    return endpoint


@pytest.fixture
def sample() -> Iterator[berth.Runtime]:
    with berth.connect(f"oci-archive://{SAMPLE}") as rt:
        yield rt


@pytest.fixture(params=["containerd", "docker", "podman"])
def daemon(request: pytest.FixtureRequest) -> Iterator[berth.Runtime]:
    """A runtime of each daemon backend, with a 60 s timeout per call."""
    with berth.connect(daemon_endpoint(request.param), timeout_ms=60_000) as rt:
        yield rt


@pytest.fixture
def container_of(daemon: berth.Runtime) -> Iterator[ContainerFactory]:
    """Creates containers of the test image and deletes them afterwards, whatever happens."""
    factory = ContainerFactory(daemon)
    yield factory
    for c in factory.made:
        try:
            c.delete(force=True)
        except berth.NotFoundError:
            pass
        c.close()


class ContainerFactory:
    def __init__(self, rt: berth.Runtime) -> None:
        self.rt = rt
        self.made: list[berth.Container] = []

    def __call__(self, *args: str, start: bool = True, **options: Any) -> berth.Container:
        name = f"berth-py-{uuid.uuid4().hex[:10]}"
        c = self.rt.create_container(TEST_IMAGE, name=name, args=list(args), **options)
        self.made.append(c)
        if start:
            c.start()
        return c


# --- images built here ------------------------------------------------------------------


@dataclass
class Entry:
    """One member of a layer tar."""

    path: str
    kind: str = "file"  # file, dir, symlink, hardlink
    data: bytes = b""
    link: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass
class Layer:
    entries: list[Entry] = field(default_factory=list)
    gzip: bool = True


def layer_tar(layer: Layer) -> bytes:
    buf = io.BytesIO()
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in layer.entries:
            info = tarfile.TarInfo(e.path)
            info.type, info.mode, info.uid, info.gid, info.mtime = kinds[e.kind], e.mode, e.uid, e.gid, EPOCH
            info.linkname = e.link
            info.size = len(e.data) if e.kind == "file" else 0
            tar.addfile(info, io.BytesIO(e.data) if e.kind == "file" else None)
    return buf.getvalue()


def _blob(blobs: dict[str, bytes], data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return digest


def oci_archive(path: pathlib.Path, layers: list[Layer], tag: str = "fixture:latest") -> pathlib.Path:
    """Writes an oci-archive of `layers` (lowest first) named `tag`."""
    blobs: dict[str, bytes] = {}
    layer_descs, diff_ids = [], []
    for layer in layers:
        raw = layer_tar(layer)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        data = gzip.compress(raw, mtime=0) if layer.gzip else raw
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if layer.gzip else "")
        layer_descs.append({"mediaType": media, "digest": _blob(blobs, data), "size": len(data)})
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _blob(blobs, config),
                "size": len(config),
            },
            "layers": layer_descs,
        }
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _blob(blobs, manifest),
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": json.dumps(index).encode()}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":")[1]] = data
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), EPOCH
            tar.addfile(info, io.BytesIO(data))
    return path


# A big file with content that is not periodic, so an offset error shows in its hash.
BIG = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(40_000))  # 1.28 MB


@pytest.fixture
def fixture_image(tmp_path: pathlib.Path) -> Iterator[berth.FileSystem]:
    """An image with the cases a reader gets wrong: whiteouts, an opaque directory,
    symlinks out of the root, a hardlink, a big file, odd modes and owners."""
    base = Layer(
        [
            Entry("etc/", "dir", mode=0o755),
            Entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
            Entry("etc/shadow", data=b"secret\n", mode=0o600),
            Entry("data/", "dir", mode=0o755),
            Entry("data/big.bin", data=BIG, uid=1000, gid=1000),
            Entry("data/gone.txt", data=b"deleted above\n"),
            Entry("data/old/", "dir"),
            Entry("data/old/a.txt", data=b"hidden by the opaque dir\n"),
            Entry("bin/", "dir", mode=0o755),
            Entry("bin/tool", data=b"#!/bin/sh\necho tool\n", mode=0o4755),
        ]
    )
    top = Layer(
        [
            Entry("data/.wh.gone.txt"),
            Entry("data/old/", "dir"),
            Entry("data/old/.wh..wh..opq"),
            Entry("data/old/b.txt", data=b"new\n"),
            Entry("escape", "symlink", link="../../../../etc/shadow"),
            Entry("absolute", "symlink", link="/etc/passwd"),
            Entry("dangling", "symlink", link="/nowhere"),
            Entry("data/link-to-dir", "symlink", link="../etc"),
            Entry("data/hard", "hardlink", link="etc/passwd"),
        ],
        gzip=False,
    )
    archive = oci_archive(tmp_path / "fixture.oci.tar", [base, top])
    with berth.connect(f"oci-archive://{archive}") as rt, rt.open_image("fixture:latest") as image:
        with image.filesystem() as fs:
            yield fs
