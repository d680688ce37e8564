#!/usr/bin/env python3
"""Writes the ABI benchmark's image: an OCI layout (OUT_DIR) whose one gzip layer holds
/data/1mib.bin, 1 MiB of deterministic pseudo-random bytes."""
import gzip, hashlib, io, json, os, random, sys, tarfile

out = sys.argv[1]
rng = random.Random(42)
payload = bytes(rng.getrandbits(8) for _ in range(1 << 20))
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    f = tarfile.TarInfo("data/1mib.bin"); f.size = len(payload); t.addfile(f, io.BytesIO(payload))
layer_tar = raw.getvalue()
layer = gzip.compress(layer_tar, mtime=0)
blobs = {}
def blob(b):
    d = "sha256:" + hashlib.sha256(b).hexdigest(); blobs[d] = b; return d, len(b)
ld, ls = blob(layer)
cfg = {"architecture": "amd64", "os": "linux",
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]}}
cd, cs = blob(json.dumps(cfg).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}
md, ms = blob(json.dumps(man).encode())
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
for d, b in blobs.items():
    open(os.path.join(out, "blobs", "sha256", d[7:]), "wb").write(b)
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(out, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
     "annotations": {"org.opencontainers.image.ref.name": "abi:bench"}}]}))
