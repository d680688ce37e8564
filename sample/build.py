#!/usr/bin/env python3
"""Builds sample/sample.oci.tar, the image the README's first command reads.

Two gzip layers made from the files under sample/layers/ (owned by this repository),
plus the markers of the OCI layer spec that a real update layer carries:
  1-base    the base files (/etc/os-release is a symlink to ../usr/lib/os-release)
  2-update  /var/log/old.log deleted (whiteout), /usr/share/doc/sample replaced
            (opaque directory), /etc/motd rewritten
The output is an oci-archive (a tar of an OCI image layout) with the image named
sample:latest. The build is deterministic: fixed times, owners and order.

Usage: python3 sample/build.py [OUTPUT]   (default: sample/sample.oci.tar)
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCH = 1700000000  # every mtime in the image

# Markers per layer, beside its files: whiteouts delete lower paths, opaque
# directories hide their lower contents.
MARKERS = {
    "2-update": {"whiteouts": ["var/log/old.log"], "opaques": ["usr/share/doc/sample"]},
}


def tar_info(name, kind, size=0, mode=0o644, link=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.linkname = kind, size, mode, link
    info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "root", "root"
    return info


def layer_tar(layer_dir, markers):
    """An uncompressed layer tar of layer_dir, entries sorted, with its markers."""
    root = os.path.join(HERE, "layers", layer_dir)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = []
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                entries.append(os.path.relpath(os.path.join(dirpath, n), root))
        for d in markers.get("opaques", []):
            entries.append(d + "/.wh..wh..opq")
        for w in markers.get("whiteouts", []):
            parent, name = os.path.split(w)
            entries.append(os.path.join(parent, ".wh." + name))
        for rel in sorted(set(entries)):
            full = os.path.join(root, rel)
            if os.path.basename(rel).startswith(".wh."):
                tar.addfile(tar_info(rel, tarfile.REGTYPE))
            elif os.path.islink(full):
                tar.addfile(tar_info(rel, tarfile.SYMTYPE, mode=0o777, link=os.readlink(full)))
            elif os.path.isdir(full):
                tar.addfile(tar_info(rel, tarfile.DIRTYPE, mode=0o755))
            else:
                data = open(full, "rb").read()
                mode = 0o755 if os.access(full, os.X_OK) else 0o644
                tar.addfile(tar_info(rel, tarfile.REGTYPE, len(data), mode), io.BytesIO(data))
    return out.getvalue()


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "sample.oci.tar")
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest, len(data)

    layers, diff_ids = [], []
    for layer_dir in sorted(os.listdir(os.path.join(HERE, "layers"))):
        raw = layer_tar(layer_dir, MARKERS.get(layer_dir, {}))
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        digest, size = blob(gz(raw))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})

    config = {
        "created": "2023-11-14T22:13:20Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin:/usr/bin"], "Cmd": ["/bin/hello"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "sample/build.py " + d}
                    for d in sorted(os.listdir(os.path.join(HERE, "layers")))],
    }
    config_digest, config_size = blob(json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": layers,
    }
    manifest_digest, manifest_size = blob(json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "sample:latest"},
        }],
    }
    files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
             "index.json": json.dumps(index, sort_keys=True).encode()}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":")[1]] = data

    with tarfile.open(output, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ["blobs", "blobs/sha256"]:
            tar.addfile(tar_info(name, tarfile.DIRTYPE, mode=0o755))
        for name in sorted(files):
            tar.addfile(tar_info(name, tarfile.REGTYPE, len(files[name])), io.BytesIO(files[name]))
    print(f"wrote {output}: image sample:latest, {len(layers)} layers, id {config_digest}")


if __name__ == "__main__":
    main()
