#!/usr/bin/env python3
"""Small helpers shared by bench/build-debian-image.sh and bench/fs-bench.sh.

Only the Python standard library is used.

    ocihelp.py mirror [SUITE]             print the Debian mirror URI apt uses for SUITE
    ocihelp.py layers LAYOUT TAG          print the layer blob paths of TAG, base layer first
    ocihelp.py sizes LAYOUT TAG           print a table of the layers of TAG (sizes, entries, whiteouts)
    ocihelp.py annotate LAYOUT TAG NAME   add io.containerd.image.name=NAME to TAG's index entry
    ocihelp.py find-member LAYOUT TAG PATH
                                          print "BLOB<TAB>MEMBER": the top-most layer holding PATH
                                          (a regular file) and its exact member name in that tar
    ocihelp.py table RESULTS.tsv          print the benchmark tables from fs-bench.sh results
"""

import glob
import gzip
import json
import os
import statistics
import sys
import tarfile

REF_NAME = "org.opencontainers.image.ref.name"


# --------------------------------------------------------------------------- apt sources

def _deb822_stanzas(text):
    stanza = {}
    key = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
            continue
        if line[0] in " \t" and key:
            stanza[key] += " " + line.strip()
            continue
        if ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            stanza[key] = value.strip()
    if stanza:
        yield stanza


def _one_line_entries(text):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # options: [arch=amd64 signed-by=...]
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            yield words[0], [words[1]]


def cmd_mirror(suite="bookworm"):
    entries = []  # (uri, suites)
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in files:
        try:
            with open(path) as f:
                entries.extend(_one_line_entries(f.read()))
        except OSError:
            pass
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        for st in _deb822_stanzas(text):
            if "deb" not in st.get("types", "").split():
                continue
            if st.get("enabled", "yes").lower() == "no":
                continue
            for uri in st.get("uris", "").split():
                entries.append((uri, st.get("suites", "").split()))
    for uri, suites in entries:
        if suite in suites and uri.startswith(("http://", "https://", "file:/")):
            print(uri.rstrip("/"))
            return 0
    sys.stderr.write(f"ocihelp: no apt source for suite {suite!r} found in /etc/apt\n")
    return 1


# --------------------------------------------------------------------------- OCI layout

def _blob_path(layout, digest):
    algo, _, hexd = digest.partition(":")
    return os.path.join(layout, "blobs", algo, hexd)


def _load_json(path):
    with open(path) as f:
        return json.load(f)


def _manifest(layout, tag):
    index = _load_json(os.path.join(layout, "index.json"))
    for desc in index.get("manifests", []):
        if (desc.get("annotations") or {}).get(REF_NAME) == tag:
            m = _load_json(_blob_path(layout, desc["digest"]))
            if "manifests" in m:  # nested index: take the first linux/amd64-ish manifest
                desc = m["manifests"][0]
                m = _load_json(_blob_path(layout, desc["digest"]))
            return m
    raise SystemExit(f"ocihelp: tag {tag!r} not found in {layout}/index.json")


def _open_layer(path, media_type):
    if media_type.endswith("+zstd"):
        raise SystemExit("ocihelp: zstd layers are not supported by this helper")
    if media_type.endswith("gzip"):
        return tarfile.open(fileobj=gzip.open(path, "rb"), mode="r|")
    return tarfile.open(path, mode="r|")


def cmd_layers(layout, tag):
    for layer in _manifest(layout, tag)["layers"]:
        print(_blob_path(layout, layer["digest"]))
    return 0


def _human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024.0


def cmd_sizes(layout, tag):
    m = _manifest(layout, tag)
    print(f"{'#':<3}{'digest':<21}{'compressed':>12}{'uncompressed':>14}{'entries':>9}{'whiteouts':>11}{'opaque':>8}")
    tot_c = tot_u = 0
    for i, layer in enumerate(m["layers"]):
        path = _blob_path(layout, layer["digest"])
        mt = layer.get("mediaType", "")
        entries = whiteouts = opaque = 0
        uncompressed = 0
        with _open_layer(path, mt) as tf:
            for ti in tf:
                entries += 1
                base = os.path.basename(ti.name.rstrip("/"))
                if base == ".wh..wh..opq":
                    opaque += 1
                elif base.startswith(".wh."):
                    whiteouts += 1
            uncompressed = tf.offset
        tot_c += layer["size"]
        tot_u += uncompressed
        print(f"{i:<3}{layer['digest'][:20]:<21}{_human(layer['size']):>12}{_human(uncompressed):>14}"
              f"{entries:>9}{whiteouts:>11}{opaque:>8}")
    print(f"{'':<3}{'total':<21}{_human(tot_c):>12}{_human(tot_u):>14}")
    return 0


def cmd_annotate(layout, tag, name):
    path = os.path.join(layout, "index.json")
    index = _load_json(path)
    found = False
    for desc in index.get("manifests", []):
        ann = desc.get("annotations") or {}
        if ann.get(REF_NAME) == tag:
            ann["io.containerd.image.name"] = name
            desc["annotations"] = ann
            found = True
    if not found:
        raise SystemExit(f"ocihelp: tag {tag!r} not found in {path}")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(index, f, separators=(",", ":"))
    os.replace(tmp, path)
    return 0


def cmd_find_member(layout, tag, want):
    """Top-most layer in which WANT is a regular file, honouring whiteouts above it."""
    want = want.strip("/")
    m = _manifest(layout, tag)
    for layer in reversed(m["layers"]):
        path = _blob_path(layout, layer["digest"])
        hit = None
        hidden = False
        with _open_layer(path, layer.get("mediaType", "")) as tf:
            for ti in tf:
                name = ti.name
                norm = name[2:] if name.startswith("./") else name
                norm = norm.rstrip("/")
                d, base = os.path.split(norm)
                if norm == want and ti.isreg():
                    hit = name
                elif base == ".wh..wh..opq" and (want + "/").startswith(d + "/"):
                    hidden = True
                elif base.startswith(".wh.") and (want + "/").startswith(os.path.join(d, base[4:]) + "/"):
                    hidden = True
        if hit:
            print(f"{path}\t{hit}")
            return 0
        if hidden:
            break
    sys.stderr.write(f"ocihelp: {want} is not a regular file in any layer of {tag}\n")
    return 1


# --------------------------------------------------------------------------- results table

def cmd_table(results):
    # results.tsv lines: job tool run wall_seconds peak_rss_kib status
    data = {}
    order_jobs, order_tools = [], []
    with open(results) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 6:
                continue
            job, tool, _run, wall, rss, status = parts[:6]
            if job not in order_jobs:
                order_jobs.append(job)
            if tool not in order_tools:
                order_tools.append(tool)
            d = data.setdefault((job, tool), {"wall": [], "rss": [], "fail": 0})
            if status == "ok":
                d["wall"].append(float(wall))
                d["rss"].append(int(rss))
            else:
                d["fail"] += 1

    def med(job, tool, key="wall"):
        d = data.get((job, tool))
        if not d or d["fail"] or not d[key]:
            return None
        return statistics.median(d[key])

    def fmt_t(v, job, tool):
        d = data.get((job, tool))
        if d and d["fail"]:
            return "FAIL"
        return "n/a" if v is None else (f"{v:.3f} s" if v < 10 else f"{v:.2f} s")

    def fmt_ratio(a, b):
        return "-" if a is None or b is None or b <= 0 else f"{a / b:.1f}x"

    def fmt_rss(v, job, tool):
        d = data.get((job, tool))
        if d and d["fail"]:
            return "FAIL"
        return "n/a" if v is None else f"{v / 1024:.0f} MiB"

    main_jobs = [j for j in order_jobs if j != "decompress"]
    hdr = ["job", "berth", "umoci", "gnu-tar", "umoci/berth", "tar/berth", "berth-peak-RSS"]
    rows = []
    for job in main_jobs:
        b, u, t = med(job, "berth"), med(job, "umoci"), med(job, "gnu-tar")
        rows.append([job, fmt_t(b, job, "berth"), fmt_t(u, job, "umoci"), fmt_t(t, job, "gnu-tar"),
                     fmt_ratio(u, b), fmt_ratio(t, b), fmt_rss(med(job, "berth", "rss"), job, "berth")])
    _print_rows(hdr, rows)

    print()
    print("peak RSS (median of runs; for umoci/gnu-tar the largest single process of the pipeline)")
    hdr = ["job", "berth", "umoci", "gnu-tar"]
    rows = [[job] + [fmt_rss(med(job, tool, "rss"), job, tool) for tool in ("berth", "umoci", "gnu-tar")]
            for job in main_jobs]
    _print_rows(hdr, rows)

    if "decompress" in order_jobs:
        print()
        print("reference: decompress all layer blobs to /dev/null")
        hdr = ["tool", "median", "peak-RSS"]
        rows = [[tool, fmt_t(med("decompress", tool), "decompress", tool),
                 fmt_rss(med("decompress", tool, "rss"), "decompress", tool)]
                for tool in order_tools if ("decompress", tool) in data]
        _print_rows(hdr, rows)

    print()
    print("runs per cell:", ", ".join(
        f"{j}/{t}={len(d['wall'])}" + (f" ({d['fail']} failed)" if d["fail"] else "")
        for (j, t), d in data.items()))
    return 0


def _print_rows(hdr, rows):
    widths = [max(len(str(r[i])) for r in [hdr] + rows) for i in range(len(hdr))]
    for r in [hdr] + rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    fn = {
        "mirror": cmd_mirror,
        "layers": cmd_layers,
        "sizes": cmd_sizes,
        "annotate": cmd_annotate,
        "find-member": cmd_find_member,
        "table": cmd_table,
    }.get(cmd)
    if fn is None:
        print(__doc__)
        return 2
    return fn(*args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
