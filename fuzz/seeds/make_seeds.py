#!/usr/bin/env python3
"""Writes the seed corpora of berth's fuzz targets into fuzz/corpus/<target>/.

Small valid inputs of each kind (the sample image's layers, index, manifest and config;
references and endpoints from the tests) and known-nasty shapes (base-256 sizes, PAX
global headers, every sparse format, long names, deep paths, symlink loops, whiteouts
and opaque directories, gzip framing with every header field, many members, zstd
frames). Deterministic: run it again and nothing changes.

Usage: python3 fuzz/seeds/make_seeds.py   (needs the `zstd` command for zstd seeds)
"""
import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import tarfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
REPO = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")
SEP = b"\n%%berth%%\n"  # berth_fuzz::sections::SEPARATOR
EPOCH = 1700000000


# ---------------------------------------------------------------------------
# Tar building, byte by byte where tarfile cannot write the shape
# ---------------------------------------------------------------------------

def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def header(name, size=0, typeflag=b"0", link=b"", mode=0o644, gnu=False, size_field=None,
           mtime_field=None, extra=None):
    """One 512-byte header; `size_field`/`mtime_field` override the encoded fields,
    `extra` is (offset, bytes) pairs written before the checksum."""
    h = bytearray(512)
    name = name.encode() if isinstance(name, str) else name
    link = link.encode() if isinstance(link, str) else link
    h[0:len(name[:100])] = name[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = mtime_field if mtime_field is not None else octal(EPOCH, 12)
    h[156:157] = typeflag
    h[157:157 + len(link[:100])] = link[:100]
    h[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    h[265:269] = b"root"
    h[297:301] = b"root"
    for off, b in extra or []:
        h[off:off + len(b)] = b
    h[148:156] = b" " * 8
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    return bytes(h)


def pad(data):
    return data + b"\0" * ((512 - len(data) % 512) % 512)


def entry(name, data=b"", **kw):
    return header(name, size=len(data), **kw) + pad(data)


def end():
    return b"\0" * 1024


def pax_record(key, value):
    value = value.encode() if isinstance(value, str) else value
    body = b" " + key.encode() + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def pax(records, typeflag=b"x", name="PaxHeaders/x"):
    data = b"".join(pax_record(k, v) for k, v in records)
    return header(name, size=len(data), typeflag=typeflag) + pad(data)


def base256(n, width=12):
    out = bytearray(n.to_bytes(width, "big"))
    out[0] |= 0x80
    return bytes(out)


def tar_with(members, fmt=tarfile.PAX_FORMAT, pax_headers=None):
    """A tar from (TarInfo kwargs, data) pairs, with tarfile."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, pax_headers=pax_headers or {}) as t:
        for kw, data in members:
            info = tarfile.TarInfo(kw.pop("name"))
            info.mtime, info.uname, info.gname = EPOCH, "root", "root"
            for k, v in kw.items():
                setattr(info, k, v)
            info.size = len(data) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
            t.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


def f(name, data=b"", **kw):
    return (dict(name=name, type=tarfile.REGTYPE, mode=0o644, **kw), data)


def d(name, **kw):
    return (dict(name=name, type=tarfile.DIRTYPE, mode=0o755, **kw), b"")


def sym(name, target):
    return (dict(name=name, type=tarfile.SYMTYPE, mode=0o777, linkname=target), b"")


def hard(name, target):
    return (dict(name=name, type=tarfile.LNKTYPE, linkname=target), b"")


def gnu_sparse_old(name, real, segments, extended_segments=()):
    """A GNU `S` entry: up to 4 segments in the header, more in extension blocks."""
    def slots(segs, count):
        area = b""
        for off, data in segs[:count]:
            area += octal(off, 12) + octal(len(data), 12)
        return area
    stored = b"".join(data for _, data in list(segments) + list(extended_segments))
    extra = [(386, slots(segments, 4)), (483, octal(real, 12))]
    if extended_segments:
        extra.append((482, b"\x01"))
    out = header(name, size=len(stored), typeflag=b"S", gnu=True, extra=extra)
    if extended_segments:
        ext = bytearray(512)
        s = slots(list(extended_segments), 21)
        ext[0:len(s)] = s
        out += bytes(ext)
    return out + pad(stored)


def pax_sparse_1_0(name, real, segments):
    mapping = [str(len(segments))]
    for off, data in segments:
        mapping += [str(off), str(len(data))]
    map_block = pad(("\n".join(mapping) + "\n").encode())
    stored = map_block + b"".join(data for _, data in segments)
    records = [("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", name),
               ("GNU.sparse.realsize", str(real))]
    return pax(records) + header("GNUSparseFile.0/" + name, size=len(stored)) + pad(stored)


def pax_sparse_0_1(name, real, segments):
    m = ",".join("%d,%d" % (off, len(data)) for off, data in segments)
    records = [("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1"), ("GNU.sparse.name", name),
               ("GNU.sparse.size", str(real)), ("GNU.sparse.map", m)]
    stored = b"".join(data for _, data in segments)
    return pax(records) + header(name, size=len(stored)) + pad(stored)


def pax_sparse_0_0(name, real, segments):
    records = [("GNU.sparse.size", str(real)), ("GNU.sparse.numblocks", str(len(segments)))]
    for off, data in segments:
        records += [("GNU.sparse.offset", str(off)), ("GNU.sparse.numbytes", str(len(data)))]
    stored = b"".join(data for _, data in segments)
    return pax(records) + header(name, size=len(stored)) + pad(stored)


# ---------------------------------------------------------------------------
# The sample image
# ---------------------------------------------------------------------------

def sample_files():
    with tarfile.open(os.path.join(REPO, "sample", "sample.oci.tar")) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def sample_layout():
    files = sample_files()
    index = json.loads(files["index.json"])
    manifest_digest = index["manifests"][0]["digest"]
    blob = lambda dg: files["blobs/sha256/" + dg.split(":")[1]]
    manifest = json.loads(blob(manifest_digest))
    config = blob(manifest["config"]["digest"])
    layers = [blob(l["digest"]) for l in manifest["layers"]]
    return index, manifest, config, layers


def tars():
    """Layer tars: the sample's and hand-made hostile ones, by name."""
    _, _, _, layers = sample_layout()
    out = {"sample-1-base": gzip.decompress(layers[0]), "sample-2-update": gzip.decompress(layers[1])}
    out["ustar-basic"] = tar_with([d("etc"), f("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                                   sym("etc/localtime", "/usr/share/zoneinfo/UTC"), hard("etc/passwd-", "etc/passwd"),
                                   (dict(name="dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3), b""),
                                   (dict(name="run/fifo", type=tarfile.FIFOTYPE), b"")], fmt=tarfile.USTAR_FORMAT)
    out["gnu-long-names"] = tar_with([f("d/" + "n" * 150, b"long"), sym("l/" + "s" * 120, "t" * 130),
                                      hard("h" * 110, "d/" + "n" * 150)], fmt=tarfile.GNU_FORMAT)
    out["pax-global-xattrs"] = (pax([("SCHILY.xattr.user.big", "v" * 300), ("comment", "global")], typeflag=b"g",
                                    name="pax_global_header")
                                + b"".join(entry("f%d" % i, b"x") for i in range(5)) + end())
    out["pax-records"] = tar_with([f("p/file", b"data", pax_headers={"path": "p/renamed", "mtime": "1700000000.123456789",
                                                                      "SCHILY.xattr.security.capability": "\x01\x00",
                                                                      "uid": "4294967296", "size": "4"})])
    out["base256-size"] = header("big", size_field=base256(5)) + pad(b"hello") + end()
    out["base256-size-max"] = header("huge", size_field=b"\xff" * 12) + pad(b"smuggled") + entry("after", b"x") + end()
    out["base256-negative-mtime"] = header("old", size=1, mtime_field=b"\xff" * 12) + pad(b"o") + end()
    out["gnu-sparse-old"] = gnu_sparse_old("sparse", 1 << 20, [(0, b"head"), (4096, b"mid"), (65536, b"x"), (70000, b"y")],
                                           [(100000, b"ext1"), (200000, b"ext2")]) + end()
    out["pax-sparse-1.0"] = pax_sparse_1_0("s10", 9 << 30, [(0, b"start"), ((9 << 30) - 3, b"end")]) + end()
    out["pax-sparse-0.1"] = pax_sparse_0_1("s01", 50000, [(10, b"ab"), (40000, b"cd")]) + end()
    out["pax-sparse-0.0"] = pax_sparse_0_0("s00", 3000, [(0, b"a"), (2999, b"z")]) + end()
    deep = "/".join(["d"] * 300)
    out["deep-path"] = tar_with([f(deep + "/leaf", b"deep")])
    out["symlink-loops"] = tar_with([sym("a", "b"), sym("b", "a"), sym("self", "self/x"), sym("up", "../../../../etc"),
                                     sym("x", "x/x/x/x"), sym("abs", "/abs"), sym("empty", "")])
    out["whiteouts"] = tar_with([d("etc"), f("etc/.wh.passwd"), d("usr/share"), f("usr/share/.wh..wh..opq"),
                                 f("usr/share/new", b"n"), f(".wh..wh.plnk"), f("var/.wh..wh..opqX"), f(".wh.")])
    out["dot-names"] = tar_with([f("./a", b"1"), f("/b", b"2"), f("../../c", b"3"), d("./"), f("d/./e/../f", b"4"),
                                 f("dir/", b"")], fmt=tarfile.GNU_FORMAT)
    v7 = bytearray(header("v7file", size=3))
    v7[257:265] = b"\0" * 8
    v7[148:156] = b" " * 8
    v7[148:156] = ("%06o\0 " % sum(v7)).encode()
    out["v7-header"] = bytes(v7) + pad(b"old") + end()
    out["no-end-marker"] = entry("cut", b"abc")
    return out


# ---------------------------------------------------------------------------
# Per target
# ---------------------------------------------------------------------------

def write(target, name, data):
    path = os.path.join(CORPUS, target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def write_finding(target, name, data):
    path = os.path.join(FUZZ, "findings", target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def control(mode, span_log=10, rest=b""):
    c = bytes([mode, span_log]) + rest
    c += bytes(range(7, 7 + 30))  # read offsets and lengths
    return c[:32]


def gzip_member(data, level=6, fields=False):
    """One member, optionally with FEXTRA, FNAME, FCOMMENT and FHCRC."""
    if not fields:
        return gzip.compress(data, compresslevel=level, mtime=0)
    head = bytearray([0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3])
    head += struct.pack("<H", 4) + b"AB\x00\x00"
    head += b"layer.tar\0comment\0"
    head += struct.pack("<H", zlib.crc32(bytes(head)) & 0xffff)
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return bytes(head) + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff)


def zstd(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, stdout=subprocess.PIPE, check=True).stdout


def main():
    # Seeds are (over)written, never removed: regression inputs found by fuzzing
    # (regression-*) live beside them.
    layer_tars = tars()
    for name, t in layer_tars.items():
        write("tar_reader", name, t)
    # Shapes that crash today's reader go to findings/, not to the corpus that the test
    # command replays (see fuzz/README.md): a base-256 size of 2^64-1 (issue 11, hole 5).
    wrap = header("wrap", size_field=b"\x80\x00\x00\x00" + b"\xff" * 8) + entry("smuggled", b"x") + end()
    write_finding("tar_reader", "base256-size-wrap-skipped", wrap + b"\0")
    write_finding("layered_merge", "base256-size-wrap", wrap)

    # The merge: the sample's two layers, and hostile stacks, each with paths to resolve.
    paths = b"\n".join([b"/etc/os-release", b"/../../etc/motd", b"/usr/share/doc/sample/", b"/x/passwd",
                        b"/a", b"/self/x", b"/up/passwd", b"//etc/./hostname"])
    L = layer_tars
    stacks = {
        "sample": [L["sample-1-base"], L["sample-2-update"]],
        "whiteouts-over-basic": [L["ustar-basic"], L["whiteouts"]],
        "symlinked-parent": [tar_with([d("etc"), f("etc/passwd", b"old"), sym("x", "/etc")]),
                             tar_with([f("x/passwd", b"new")])],
        "opaque-under-symlink": [tar_with([d("real"), f("real/keep", b"k"), sym("link", "real")]),
                                 tar_with([f("link/.wh..wh..opq")])],
        "hardlink-across-layers": [tar_with([f("t", b"target")]), tar_with([hard("h", "t"), f(".wh.t")]),
                                   tar_with([d("t")])],
        "file-replaces-dir": [tar_with([d("a/b"), f("a/b/c", b"c")]), tar_with([f("a", b"now a file")]),
                              tar_with([f("a/b/d", b"dir again")])],
        "loops-and-sparse": [L["symlink-loops"], L["pax-sparse-1.0"], L["gnu-sparse-old"]],
        "long-and-deep": [L["gnu-long-names"], L["deep-path"]],
        "xattrs": [L["pax-global-xattrs"], L["pax-records"]],
    }
    for name, layers in stacks.items():
        write("layered_merge", name, SEP.join(layers + [paths]))

    # gzip: the sample's layers as they are, framing with every field, many members,
    # stored blocks; and bodies that the target compresses itself.
    _, _, _, gz_layers = sample_layout()
    text = b"".join(b"line %d of a text that deflate can shorten\n" % i for i in range(400))
    write("gzip_seek", "sample-layer-1", control(0) + gz_layers[0])
    write("gzip_seek", "sample-layer-2", control(0, 4) + gz_layers[1])
    write("gzip_seek", "all-header-fields", control(0, 6) + gzip_member(text, fields=True))
    write("gzip_seek", "members", control(0, 8) + gzip_member(text[:5000]) + gzip_member(b"") +
          gzip_member(text[5000:], 1) + gzip_member(text[:100], 0))
    write("gzip_seek", "stored-blocks", control(0, 2) + gzip_member(bytes(range(256)) * 40, 0))
    write("gzip_seek", "trailing-junk", control(0, 3) + gzip_member(text[:300]) + b"junk")
    write("gzip_seek", "compress-flushes", control(1, 0, bytes([6, 2, 3])) + text)
    write("gzip_seek", "compress-stored", control(1, 5, bytes([0, 40, 1])) + text[:3000])
    write("gzip_seek", "compress-tar", control(1, 9, bytes([9, 255, 0])) + L["sample-1-base"])

    write("zstd_seek", "sample-layer", control(0) + zstd(L["sample-1-base"]))
    write("zstd_seek", "checksum-multi-frame", control(0) + zstd(text[:4000], "--check") + zstd(text[4000:], "-19"))
    write("zstd_seek", "skippable", control(0) + bytes([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]) + zstd(text))
    write("zstd_seek", "compress-frames", control(1, 0, bytes([3, 1, 1, 3])) + text)
    write("zstd_seek", "compress-tar", control(1, 0, bytes([1, 0, 0, 0])) + L["gnu-sparse-old"])

    # OCI JSON: the sample's documents with placeholders (see fuzz/src/store.rs): a blob
    # names only blobs after it, so each layout is written top down.
    index, manifest, config, _ = sample_layout()
    plain = "application/vnd.oci.image.layer.v1.tar"

    def manifest_text(cfg_n, layer_ns):
        man = dict(manifest)
        man["config"] = dict(manifest["config"], digest="@D%d" % cfg_n, size="@S%d" % cfg_n)
        man["layers"] = [dict(manifest["layers"][0], mediaType=plain, digest="@D%d" % n, size="@S%d" % n)
                         for n in layer_ns]
        return unquote_sizes(json.dumps(man, indent=1))

    def unquote_sizes(text):
        # Sizes are numbers in JSON: the placeholder goes in without quotes.
        for n in range(1, 10):
            text = text.replace('"@S%d"' % n, "@S%d" % n)
        return text.encode()

    def config_text(layer_ns):
        cfg = json.loads(config)
        cfg["rootfs"]["diff_ids"] = ["@D%d" % n for n in layer_ns]
        return json.dumps(cfg, indent=1).encode()

    def index_text(manifests):
        idx = dict(index)
        idx["manifests"] = manifests
        return unquote_sizes(json.dumps(idx, indent=1))

    top_entry = dict(index["manifests"][0], digest="@D1", size="@S1")
    sample_tars = [L["sample-1-base"], L["sample-2-update"]]
    write("oci_json", "sample-layout", SEP.join([index_text([top_entry]), manifest_text(2, [3, 4]),
                                                 config_text([3, 4])] + sample_tars))
    nested_entry = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "@D1", "size": "@S1",
                    "annotations": {"org.opencontainers.image.ref.name": "multi:1"}}
    per_platform = lambda os_, arch, variant=None: dict(
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "@D2", "size": "@S2"},
        platform=dict({"os": os_, "architecture": arch}, **({"variant": variant} if variant else {})))
    nested = {"schemaVersion": 2, "manifests": [per_platform("linux", "amd64"), per_platform("linux", "arm64", "v8"),
                                                per_platform("unknown", "unknown")]}
    write("oci_json", "nested-multi-platform", SEP.join([index_text([nested_entry]), unquote_sizes(json.dumps(nested)),
                                                         manifest_text(3, [4, 5]), config_text([4, 5])] + sample_tars))
    write("oci_json", "repeated-layer", SEP.join([index_text([top_entry]), manifest_text(2, [3, 3, 3]),
                                                  config_text([3, 3, 3]), L["sample-1-base"]]))
    zstd_layer = zstd(L["whiteouts"])
    zman = json.loads(manifest_text(2, [3]).decode().replace("@S2", "0").replace("@S3", "0"))
    zman["config"]["size"], zman["layers"][0]["size"] = "@S2", "@S3"
    zman["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    write("oci_json", "zstd-layer", SEP.join([index_text([top_entry]), unquote_sizes(json.dumps(zman)),
                                              config_text([4]), zstd_layer, L["whiteouts"]]))
    docker = [{"Config": "blob1", "RepoTags": ["sample:latest", "other/name:v1"], "Layers": ["blob2", "blobs/sha256/@H3"]}]
    write("oci_json", "docker-legacy", SEP.join([json.dumps(docker).encode(), config_text([2, 3])] + sample_tars))
    write("oci_json", "docker-oci-paths", SEP.join([json.dumps([{"Config": "blobs/sha256/@H1", "RepoTags": None,
                                                                  "Layers": ["blobs/sha256/@H2"]}]).encode(),
                                                    config_text([2]), L["whiteouts"]]))
    write("oci_json", "empty-index", b'{"schemaVersion":2,"manifests":[]}')

    refs = ["busybox", "docker.io/library/busybox:latest busybox:1.36", "localhost:5000/a/b:v1",
            "example.com/tools/busybox:v2", "user/app:1.0", "sha256:" + "0" * 64, "cafe",
            "busybox@sha256:" + "8" * 64, "localhost/app:dev docker.io/team/app:1", "a//b", "UPPER", "-a", "a:",
            "sha512:" + "a" * 128, "registry.example.com:443/ns/repo@sha256:" + "9" * 64]
    write("reference_find", "find-by-name", "\n".join(refs).encode())
    write("reference_find", "find-by-hex", ("ccc\n" + "\n".join(refs[1:])).encode())
    write("reference_find", "find-by-digest", ("sha256:" + "0" * 64 + "\n" + "\n".join(refs)).encode())
    write("reference_find", "find-by-path", b"tools/busybox\nexample.com/tools/busybox:v2\ndocker.io/library/busybox")
    write("reference_find", "find-canonical", ("busybox@sha256:" + "8" * 64 + "\nbusybox@sha256:" + "8" * 64).encode())

    endpoints = ["containerd:///run/c.sock?namespace=k8s.io", "oci-archive://rel/x.tar", "oci:///abs/layout",
                 "docker-archive:///saved.tar?platform=linux/arm64/v8", "docker://tcp://1.2.3.4:2375?tls=1",
                 "podman:///run/podman/podman.sock?image_fs=direct", "registry://localhost:5000", "cri:///x.sock",
                 "oci:///x?a=b=c&&k&=v&platform=linux/amd64"]
    for i, e in enumerate(endpoints):
        write("endpoint", "endpoint-%d" % i, e.encode())

    ffi = {
        "sample": [b"oci-archive", b'{"timeout_ms": 5000}', b"sample", paths, b'{"image":"busybox","args":["/bin/sh"]}'],
        "docker-archive-scheme": [b"docker-archive?platform=linux/amd64", b"", b"sample:latest", b"/\n/etc",
                                  b'{"args":["/bin/cat"],"env":["A=B"],"tty":true}'],
        "bad-options": [b"oci-archive?namespace=x", b'{"unknown": 1}', b"", b"", b"[1,2]"],
        "options-all": [b"oci-archive", b'{"timeout_ms":0,"namespace":"n","platform":"linux/arm64","username":"u","password":"p"}',
                        b"sha256:", b"/etc/os-release", b'{"follow":true,"tail":10,"memory":1,"name":"p","plain_http":true}'],
        "bad-utf8": [b"oci-archive\xff", b"{\"platform\":\"\xfe\"}", b"sam\xffple", b"/etc/\xff", b"{\"image\":\"\xc3\"}"],
    }
    for name, parts in ffi.items():
        write("ffi_inputs", name, SEP.join(parts))


if __name__ == "__main__":
    main()
