"""The Python side of bench/python/python-bench.sh: the berth Python package against
what Python programs use today (docker-py; the standard library's tarfile).

Read jobs (one per process: the shell starts a fresh interpreter for every run). Each
prints "key value" lines: `ms` (the time from opening the image to the last byte read,
imports and interpreter start-up excluded), its parts, `files` and `bytes` read.

  pybench.py read-berth ARCHIVE TAG [--verify OUT]
      berth.connect("oci-archive://ARCHIVE"), open_image(TAG), filesystem(), then
      fs.scan("/") and fs.read_bytes() of every entry of type "file".
  pybench.py read-berth-again ARCHIVE TAG
      The same, twice in one process; only the second pass is timed (`ms`): the image
      already open and its layers indexed.
  pybench.py read-tarfile ARCHIVE TAG [--verify OUT]
      For each layer blob of TAG in order (read straight out of the oci-archive with
      tarfile), iterate its members with tarfile and read every regular file with
      extractfile().read() (hard links are not read again: their targets are; whiteout
      markers are skipped, not applied, so files a later layer deletes or replaces are
      read too).
  pybench.py read-extract ARCHIVE TAG DEST [--verify OUT]
      Extract every layer in order into the empty directory DEST with
      TarFile.extractall (filter "fully_trusted" where tarfile has filters), applying
      the whiteouts (.wh.NAME deletes NAME, .wh..wh..opq empties its directory of what
      lower layers put there) from the extraction filter; then walk DEST and read
      every regular file. `extract_ms` and `walk_read_ms` are the two parts.
  pybench.py ref-inflate ARCHIVE TAG
      Reference: zlib-inflate every layer blob to nowhere (the floor for anything that
      has to decompress the layers, in Python's zlib).

  --verify OUT writes "path<TAB>size<TAB>sha256" of every regular file of the merged
  tree, sorted (read-tarfile computes the merged tree in memory, applying the
  whiteouts), so that the shell can check the three agree. Hashing is outside `ms`.

List job (one warm process):

  pybench.py list SOCK RUNS EXPECTED DOCKERPY_PYTHON
      berth: `for s in rt.containers(): rt.open_container(s["id"]).inspect()` (each
      handle closed), on a runtime connected beforehand; docker-py:
      client.containers.list(all=True) (which inspects each container) on a client made
      beforehand, in a second warm process (DOCKERPY_PYTHON, `serve-dockerpy`) asked over
      a pipe. One untimed warm-up each, with a check that both see the same EXPECTED
      containers, then RUNS timed runs, alternating which goes first. Prints "key value"
      lines, one per run and key.
  pybench.py serve-dockerpy SOCK
      For each line "list" on stdin: client.containers.list(all=True), answered with
      "MS COUNT SHA256-OF-SORTED-IDS".

  pybench.py report RESULTS.tsv RUNS
      The table: medians of the "key<TAB>value" lines, and the ratios berth/other.
"""

import hashlib
import json
import os
import posixpath
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zlib

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


def now():
    return time.perf_counter()


def ms(seconds):
    return seconds * 1000.0


def emit(**values):
    for k, v in values.items():
        print(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}")
    sys.stdout.flush()


def norm(name):
    """A tar member name as an absolute, normalised path ("./etc/x/" -> "/etc/x")."""
    p = posixpath.normpath("/" + name)
    return "/" if p == "//" else p


def write_verify(path, tree):
    with open(path, "w") as out:
        for p in sorted(tree):
            size, digest = tree[p]
            out.write(f"{p}\t{size}\t{digest}\n")


# --------------------------------------------------------------------------- the archive

class OciArchive:
    """An oci-archive read with tarfile: the layer blobs of one image, lowest first."""

    def __init__(self, path, tag):
        self.tar = tarfile.open(path, "r:")
        self.members = {norm(m.name): m for m in self.tar.getmembers()}
        index = self.json("index.json")
        desc = self.pick(index["manifests"], tag)
        while desc.get("mediaType") in INDEX_TYPES:
            desc = self.pick(self.json_blob(desc["digest"])["manifests"], None)
        manifest = self.json_blob(desc["digest"])
        self.layers = manifest["layers"]

    @staticmethod
    def pick(manifests, tag):
        if tag is not None:
            for d in manifests:
                ann = d.get("annotations", {})
                if tag in (ann.get(REF_NAME), ann.get(IMAGE_NAME)):
                    return d
        if len(manifests) == 1:
            return manifests[0]
        for d in manifests:
            plat = d.get("platform", {})
            if plat.get("os") == "linux" and plat.get("architecture") == "amd64":
                return d
        raise SystemExit(f"pybench: no manifest for {tag!r} in the archive")

    def open_member(self, name):
        m = self.members.get(norm(name))
        if m is None:
            raise SystemExit(f"pybench: the archive has no {name}")
        return self.tar.extractfile(m)

    def json(self, name):
        with self.open_member(name) as f:
            return json.load(f)

    def blob(self, digest):
        algo, hexdigest = digest.split(":", 1)
        return self.open_member(f"blobs/{algo}/{hexdigest}")

    def json_blob(self, digest):
        with self.blob(digest) as f:
            return json.load(f)

    def layer_tars(self):
        """Each layer as an open TarFile (gzip, bzip2, xz or plain: tarfile's "r:*")."""
        for desc in self.layers:
            if "zstd" in desc.get("mediaType", ""):
                raise SystemExit("pybench: zstd layers: Python's tarfile cannot read them")
            with self.blob(desc["digest"]) as f, tarfile.open(fileobj=f, mode="r:*") as layer:
                yield layer

    def close(self):
        self.tar.close()


# --------------------------------------------------------------------------- berth

def berth_pass(fs, tree):
    """scan + read_bytes of every file; returns (files, bytes, seconds in read_bytes)."""
    files = total = 0
    in_read = 0.0
    with fs.scan("/") as stream:
        for path, st in stream:
            if st.type == "file":
                t = now()
                data = fs.read_bytes(path)
                in_read += now() - t
                files += 1
                total += len(data)
                if tree is not None:
                    tree[path] = (len(data), hashlib.sha256(data).hexdigest())
    return files, total, in_read


def read_berth(archive, tag, verify, again=False):
    import berth

    tree = {} if verify else None
    t0 = now()
    with berth.connect(f"oci-archive://{archive}") as rt, rt.open_image(tag) as image, image.filesystem() as fs:
        t_open = now()
        if again:
            berth_pass(fs, None)
            t0 = t_open = now()
        files, total, in_read = berth_pass(fs, tree)
        t_read = now()
    t_end = now()
    emit(ms=ms(t_end - t0), open_ms=ms(t_open - t0), scan_ms=ms(t_read - t_open - in_read),
         read_bytes_ms=ms(in_read), close_ms=ms(t_end - t_read), files=files, bytes=total)
    if verify:
        write_verify(verify, tree)


# --------------------------------------------------------------------------- tarfile: read

def whiteout_target(path):
    """For a whiteout marker: ("opaque", DIR) or ("whiteout", PATH); else None."""
    parent, base = posixpath.split(path)
    if base == ".wh..wh..opq":
        return "opaque", parent
    if base.startswith(".wh."):
        return "whiteout", posixpath.join(parent, base[4:])
    return None


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def read_tarfile(archive, tag, verify):
    merged = {} if verify else None
    t0 = now()
    files = total = 0
    oci = OciArchive(archive, tag)
    for layer in oci.layer_tars():
        added, removed, opaque, kinds = {}, [], [], {}
        for m in layer:
            path = norm(m.name)
            wh = whiteout_target(path)
            if wh is not None:
                (opaque if wh[0] == "opaque" else removed).append(wh[1])
                continue
            if m.isreg():
                data = layer.extractfile(m).read()
                files += 1
                total += len(data)
                if merged is not None:
                    added[path] = (len(data), hashlib.sha256(data).hexdigest())
            elif m.islnk() and merged is not None:
                # A hard link: the content of its target (read already, in this layer
                # or a lower one). Not read again: extractfile() of a link member makes
                # tarfile load every member of the layer and seek back to the target,
                # which on a gzip stream means inflating the layer once more.
                target = norm(m.linkname)
                added[path] = added[target] if target in added else merged[target]
            if merged is not None:
                kinds[path] = m.isdir()
        if merged is not None:
            # This layer over the lower ones: whiteouts and opaque directories first
            # (they only hide lower entries), then what the layer holds replaces what
            # was there (a non-directory replaces a whole lower directory).
            for p in list(merged):
                if any(under(p, r) for r in removed) or any(p != d and under(p, d) for d in opaque):
                    del merged[p]
            for p, isdir in kinds.items():
                if not isdir:
                    for q in [q for q in merged if q.startswith(p + "/")]:
                        del merged[q]
                    merged.pop(p, None)
            merged.update(added)
    oci.close()
    t_end = now()
    emit(ms=ms(t_end - t0), files=files, bytes=total, layers=len(oci.layers))
    if verify:
        write_verify(verify, merged)


# --------------------------------------------------------------------------- tarfile: extract

def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def empty_dir(dest, dirpath, touched):
    """Opaque directory: remove what lower layers put in it, keep this layer's entries."""
    host = os.path.join(dest, dirpath.lstrip("/"))
    if not os.path.isdir(host) or os.path.islink(host):
        return
    for entry in os.scandir(host):
        p = posixpath.join(dirpath, entry.name)
        if p not in touched:
            remove_path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            empty_dir(dest, p, touched)  # this layer's directory: its lower contents go too


def extract_layer(layer, dest, lower_exists):
    """extractall of one layer into dest, its whiteouts applied by the filter."""
    touched = set()  # this layer's paths so far and their parents (an opaque marker keeps them)
    base_filter = getattr(tarfile, "fully_trusted_filter", None)

    def layer_filter(member, dest_path):
        path = norm(member.name)
        wh = whiteout_target(path)
        if wh is not None:
            if wh[0] == "opaque":
                empty_dir(dest, wh[1], touched)
            else:
                remove_path(os.path.join(dest, wh[1].lstrip("/")))
            return None
        p = path
        touched.add(p)
        while p != "/":
            p = posixpath.dirname(p)
            touched.add(p)
        if lower_exists:
            # What lower layers left at this path, if of another kind, goes (tarfile
            # would write through a symlink, or fail on a directory).
            host = os.path.join(dest, path.lstrip("/"))
            if os.path.lexists(host):
                is_dir = os.path.isdir(host) and not os.path.islink(host)
                if member.isdir() != is_dir or (os.path.islink(host) and not member.isdir()):
                    remove_path(host)
        return base_filter(member, dest_path) if base_filter else member

    if base_filter is not None:
        layer.extractall(dest, filter=layer_filter)
    else:  # a tarfile without extraction filters (before 3.11.4 / 3.12)
        layer.extractall(dest, members=(m for m in layer if layer_filter(m, dest) is not None))


def read_tree(dest, tree):
    files = total = 0
    stack = [dest]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    with open(entry.path, "rb") as f:
                        data = f.read()
                    files += 1
                    total += len(data)
                    if tree is not None:
                        tree["/" + os.path.relpath(entry.path, dest)] = (len(data), hashlib.sha256(data).hexdigest())
    return files, total


def read_extract(archive, tag, dest, verify):
    if os.listdir(dest):
        raise SystemExit(f"pybench: {dest} is not empty")
    tree = {} if verify else None
    t0 = now()
    oci = OciArchive(archive, tag)
    for i, layer in enumerate(oci.layer_tars()):
        extract_layer(layer, dest, i > 0)
    oci.close()
    t_x = now()
    files, total = read_tree(dest, tree)
    t_end = now()
    emit(ms=ms(t_end - t0), extract_ms=ms(t_x - t0), walk_read_ms=ms(t_end - t_x), files=files, bytes=total,
         filter="fully_trusted" if hasattr(tarfile, "fully_trusted_filter") else "none")
    if verify:
        write_verify(verify, tree)


def ref_inflate(archive, tag):
    t0 = now()
    oci = OciArchive(archive, tag)
    total = 0
    for desc in oci.layers:
        d = zlib.decompressobj(wbits=31)  # gzip
        with oci.blob(desc["digest"]) as f:
            while chunk := f.read(1 << 20):
                total += len(d.decompress(chunk))
        total += len(d.flush())
    oci.close()
    emit(ms=ms(now() - t0), bytes=total)


# --------------------------------------------------------------------------- list

def ids_digest(ids):
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def serve_dockerpy(sock):
    import docker

    client = docker.DockerClient(base_url=f"unix://{sock}", version="auto")
    for line in sys.stdin:
        if line.strip() != "list":
            raise SystemExit(f"pybench serve-dockerpy: unknown request {line!r}")
        t0 = now()
        containers = client.containers.list(all=True)
        t = ms(now() - t0)
        print(f"{t:.3f} {len(containers)} {ids_digest(c.id for c in containers)}", flush=True)


def list_job(sock, runs, expected, dockerpy_python):
    import berth

    rt = berth.connect(f"docker://{sock}")
    child = subprocess.Popen([dockerpy_python, os.path.abspath(__file__), "serve-dockerpy", sock],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def dockerpy_list():
        child.stdin.write("list\n")
        child.stdin.flush()
        reply = child.stdout.readline().split()
        if len(reply) != 3:
            raise SystemExit("pybench: the docker-py process did not answer (see its error above)")
        return float(reply[0]), int(reply[1]), reply[2]

    def berth_list():
        t0 = now()
        summaries = list(rt.containers())
        t_list = now()
        t_open = t_inspect = 0.0
        ids = []
        for s in summaries:
            t = now()
            with rt.open_container(s["id"]) as c:
                t1 = now()
                doc = c.inspect()
                t_inspect += now() - t1
            t_open += t1 - t
            ids.append(doc["id"])
        t_end = now()
        return ms(t_end - t0), ms(t_list - t0), ms(t_open), ms(t_inspect), ids

    # Warm-up, and the check that both list the same containers.
    b = berth_list()
    d = dockerpy_list()
    if len(b[4]) != expected or d[1] != expected:
        raise SystemExit(f"pybench: expected {expected} containers; berth listed {len(b[4])}, docker-py {d[1]}")
    if ids_digest(b[4]) != d[2]:
        raise SystemExit("pybench: berth and docker-py list different container IDs")
    for i in range(runs):
        if i % 2:
            d = dockerpy_list()
            b = berth_list()
        else:
            b = berth_list()
            d = dockerpy_list()
        emit(berth=b[0], berth_list_call=b[1], berth_open=b[2], berth_inspect=b[3], dockerpy=d[0])
    child.stdin.close()
    child.wait()
    rt.close()


# --------------------------------------------------------------------------- report

def report(results, runs):
    values = {}
    with open(results) as f:
        for line in f:
            key, value = line.rstrip("\n").split("\t")
            values.setdefault(key, []).append(float(value))
    med = {k: statistics.median(v) for k, v in values.items()}

    def one(key):
        return values.get(key, [None])[0]

    rows = []

    def row(job, blabel, bkey, olabel, okey):
        if bkey in med and okey in med:
            rows.append((job, blabel, med[bkey], olabel, med[okey], med[bkey] / med[okey]))

    count = int(med.get("list/count", 50))
    row(f"list {count} + inspect each, warm", "berth", "list/berth", "docker-py list(all=True)", "list/dockerpy")
    row("read all files, in process", "berth", "read/berth/ms", "tarfile read", "read/tarfile/ms")
    row("read all files, in process", "berth", "read/berth/ms", "tarfile extract + read", "read/extract/ms")
    row("read all files, whole process", "berth", "read/berth/proc_ms", "tarfile read", "read/tarfile/proc_ms")
    row("read all files, whole process", "berth", "read/berth/proc_ms", "tarfile extract + read", "read/extract/proc_ms")
    if rows:
        print(f"{'job':<31} {'berth':>10}  {'other':<24} {'other':>10}  berth/other")
        for job, bl, b, ol, o, r in rows:
            print(f"{job:<31} {b:>7.1f} ms  {ol:<24} {o:>7.1f} ms  {r:>7.2f}x")

    refs = [
        ("list: berth's containers() call", "list/berth_list_call", 1),
        ("list: berth's open_container, per container", "list/berth_open", count),
        ("list: berth's inspect (+ json parse), per container", "list/berth_inspect", count),
        ("read: berth connect + open_image + filesystem (indexes the layers)", "read/berth/open_ms", 1),
        ("read: berth scan (the walk stream + StatResults)", "read/berth/scan_ms", 1),
        ("read: berth read_bytes of every file", "read/berth/read_bytes_ms", 1),
        ("read: berth, image already open: scan + read again", "read/berth-again/ms", 1),
        ("read: tarfile extract: extractall of the layers", "read/extract/extract_ms", 1),
        ("read: tarfile extract: walk + read the tree", "read/extract/walk_read_ms", 1),
        ("read: Python zlib inflate of the layer blobs (a floor)", "read/inflate/ms", 1),
        ("read: a bare interpreter start-up (python -c pass)", "read/startup/proc_ms", 1),
        ("read: interpreter start-up + import berth", "read/startup-berth/proc_ms", 1),
    ]
    shown = [(label, med[key] / div) for label, key, div in refs if key in med]
    if shown:
        print("\nparts and references (medians):")
        for label, v in shown:
            print(f"  {label:<68} {v:>8.2f} ms")
    if "read/berth/files" in med:
        print("\nfiles read: berth {:.0f} files, {:.0f} bytes; tarfile extract {:.0f} files, {:.0f} bytes "
              "(merged tree); tarfile read {:.0f} files, {:.0f} bytes (every layer, nothing merged)".format(
                  one("read/berth/files") or 0, one("read/berth/bytes") or 0, one("read/extract/files") or 0,
                  one("read/extract/bytes") or 0, one("read/tarfile/files") or 0, one("read/tarfile/bytes") or 0))


# --------------------------------------------------------------------------- main

def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    job, args = argv[1], argv[2:]
    verify = None
    if "--verify" in args:
        i = args.index("--verify")
        verify = args[i + 1]
        del args[i:i + 2]
    if job == "read-berth":
        read_berth(args[0], args[1], verify)
    elif job == "read-berth-again":
        read_berth(args[0], args[1], None, again=True)
    elif job == "read-tarfile":
        read_tarfile(args[0], args[1], verify)
    elif job == "read-extract":
        read_extract(args[0], args[1], args[2], verify)
    elif job == "ref-inflate":
        ref_inflate(args[0], args[1])
    elif job == "list":
        list_job(args[0], int(args[1]), int(args[2]), args[3])
    elif job == "serve-dockerpy":
        serve_dockerpy(args[0])
    elif job == "report":
        report(args[0], int(args[1]))
    else:
        raise SystemExit(f"pybench: unknown job {job}\n\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
