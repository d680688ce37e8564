#!/usr/bin/env python3
"""Writes the stress tests' bigger image: an oci-archive named `stress:latest`.

    python3 tests/stress_image.py OUT.tar

Used by tests/c/test_stress.c (through tests/c/run.sh), bindings/python/tests/
test_stress.py and the soak (bench/soak/). The same bytes every time (a fixed seed):
two gzip layers, about 2,100 entries and 16 MiB unpacked:

- layer 1: /dNN/fMMM for NN < 40 and MMM < 50 (100 B to 64 KiB each, part text, part
  noise), /big/blob (6 MiB: several gzip checkpoints, which are 1 MiB of output or more
  apart), /links/lNN -> ../dNN/f000, /etc/os-release;
- layer 2: /d00/f000..f019 rewritten, /d01/f000..f009 whited out, /d02 made opaque
  (only /d02/new remains), /d03/hl a hard link to /d04/f000 of layer 1.

Only the standard library: it runs wherever the tests run.
"""
import gzip
import hashlib
import io
import json
import os
import platform
import random
import sys
import tarfile

MTIME = 1704067200  # 2024-01-01


def data(rng, size):
    """`size` bytes, half compressible text, half noise, so gzip has real work."""
    text = (b"berth stress %d " % rng.randrange(1 << 30)) * (size // 32 + 1)
    half = size // 2
    return text[:half] + rng.randbytes(size - half)


def add_file(tar, path, content):
    info = tarfile.TarInfo(path)
    info.size = len(content)
    info.mode = 0o644
    info.mtime = MTIME
    tar.addfile(info, io.BytesIO(content))


def add_dir(tar, path):
    info = tarfile.TarInfo(path)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = MTIME
    tar.addfile(info)


def add_link(tar, path, target, kind):
    info = tarfile.TarInfo(path)
    info.type = kind
    info.linkname = target
    info.mode = 0o777 if kind == tarfile.SYMTYPE else 0o644
    info.mtime = MTIME
    tar.addfile(info)


def layer(build):
    """The (uncompressed tar, gzip blob) of the entries `build(tar)` adds."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    plain = raw.getvalue()
    return plain, gzip.compress(plain, compresslevel=6, mtime=0)


def layer_one(tar):
    rng = random.Random(1)
    add_dir(tar, "etc")
    add_file(tar, "etc/os-release", b'NAME="stress"\nID=stress\n')
    for d in range(40):
        add_dir(tar, "d%02d" % d)
        for f in range(50):
            size = rng.choice([100, 700, 1500, 4000, 9000, 20000, 65536])
            add_file(tar, "d%02d/f%03d" % (d, f), data(rng, size))
    add_dir(tar, "big")
    add_file(tar, "big/blob", data(rng, 6 << 20))
    add_dir(tar, "links")
    for d in range(40):
        add_link(tar, "links/l%02d" % d, "../d%02d/f000" % d, tarfile.SYMTYPE)


def layer_two(tar):
    rng = random.Random(2)
    add_dir(tar, "d00")
    for f in range(20):
        add_file(tar, "d00/f%03d" % f, data(rng, 3000))
    add_dir(tar, "d01")
    for f in range(10):
        add_file(tar, "d01/.wh.f%03d" % f, b"")
    add_dir(tar, "d02")
    add_file(tar, "d02/.wh..wh..opq", b"")
    add_file(tar, "d02/new", b"only this is left in d02\n")
    add_dir(tar, "d03")
    add_link(tar, "d03/hl", "d04/f000", tarfile.LNKTYPE)


def main(out):
    blobs = {}

    def blob(content):
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        blobs[digest] = content
        return digest

    layers = [layer(layer_one), layer(layer_two)]
    config = json.dumps({
        "created": "2024-01-01T00:00:00Z",
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(p).hexdigest() for p, _ in layers]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(gz), "size": len(gz)}
                   for _, gz in layers],
    }, sort_keys=True).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest),
                       "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "stress:latest"}}],
    }, sort_keys=True).encode()
    part = out + ".part"
    with tarfile.open(part, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_file(tar, "index.json", index)
        for digest, content in sorted(blobs.items()):
            add_file(tar, "blobs/sha256/" + digest.split(":", 1)[1], content)
    os.replace(part, out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: stress_image.py OUT.tar")
    main(sys.argv[1])
