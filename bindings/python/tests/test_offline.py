"""The offline backend through the Python package: the sample image and images built in
conftest.py, read without a daemon."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import stat
import tarfile

import pytest

import berth
from conftest import BIG, SAMPLE, Entry, Layer, oci_archive


def test_version_matches_the_library() -> None:
    assert berth.__version__ == berth.version()
    assert berth.__version__.count(".") == 2
    assert berth.abi_version() >= 1


def test_runtime_info_and_image_listing(sample: berth.Runtime) -> None:
    info = sample.info
    assert info["kind"] == "oci-archive"
    assert info["capabilities"]["image_filesystems"] is True
    assert info["capabilities"]["containers"] is False
    images = list(sample.images())
    assert [i["repo_tags"] for i in images] == [["sample:latest"]]
    assert images[0]["id"].startswith("sha256:")
    # Listings are iterators, as the shapes ask.
    assert iter(sample.images()) is not None and hasattr(sample.images(), "__next__")
    assert [i["id"] for i in sample.find_images("sample")] == [images[0]["id"]]
    assert list(sample.find_images("nothing-like-it")) == []


def test_open_image_inspect_and_layers(sample: berth.Runtime) -> None:
    with sample.open_image("sample:latest") as image:
        doc = image.inspect()
        assert image.id == doc["id"]
        assert doc["repo_tags"] == ["sample:latest"]
        layers = image.layers
        assert len(layers) == 2 == len(doc["layers"])
        assert [layer.inspect()["diff_id"] for layer in layers] == [d["diff_id"] for d in doc["layers"]]
        changes = layers[1].changes()
        assert changes == {"whiteouts": ["var/log/old.log"], "opaques": ["usr/share/doc/sample"]}
        with layers[1].filesystem() as top:
            # The update layer alone has the new motd and no os-release.
            assert top.listdir("/etc") == ["motd"]
        for layer in layers:
            layer.close()


def test_read_files_of_the_sample(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        text = fs.read_text("/etc/os-release")
        assert "ID=berth-sample" in text
        assert fs.read_bytes("/etc/os-release") == text.encode()
        assert fs.readlink("/etc/os-release") == "../usr/lib/os-release"
        assert fs.realpath("/etc/os-release") == "/usr/lib/os-release"
        # The update layer's whiteout and opaque directory are applied.
        assert fs.listdir("/var/log") == []
        assert fs.listdir("/usr/share/doc/sample") == ["CHANGES"]
        with pytest.raises(berth.NotFoundError) as e:
            fs.read_bytes("/var/log/old.log")
        assert isinstance(e.value, LookupError) and "old.log" in str(e.value)


def test_stat_is_shaped_like_os_stat_result(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        st = fs.stat("/etc/os-release")  # followed: the regular file
        assert stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode)
        assert st.type == "file" and st.st_size == len(fs.read_bytes("/usr/lib/os-release"))
        assert st.st_mtime == 1700000000.0 and st.st_mtime_ns == 1700000000 * 10**9
        assert (st.st_uid, st.st_gid) == (0, 0)
        assert len(st) == 10 and st[stat.ST_SIZE] == st.st_size and st[stat.ST_MODE] == st.st_mode
        mode, _ino, _dev, _nlink, uid, _gid, size, _at, mtime, _ct = st
        assert (mode, uid, size, mtime) == (st.st_mode, 0, st.st_size, 1700000000)
        lst = fs.lstat("/etc/os-release")
        assert stat.S_ISLNK(lst.st_mode) and lst.link == "../usr/lib/os-release"
        assert stat.S_ISDIR(fs.stat("/etc").st_mode)
        assert stat.S_IMODE(fs.stat("/bin/hello").st_mode) == 0o755


def test_walk_is_shaped_like_os_walk(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        tree = list(fs.walk("/"))
        assert tree[0] == ("/", ["bin", "etc", "usr", "var"], [])
        assert ("/etc", [], ["hostname", "motd", "os-release"]) in tree
        assert ("/usr/share/doc/sample", [], ["CHANGES"]) in tree
        dirs = [d for d, _, _ in tree]
        assert dirs.index("/usr") < dirs.index("/usr/share") < dirs.index("/usr/share/doc")
        # Bottom-up: children before their parents, the root last.
        bottom_up = [d for d, _, _ in fs.walk("/", topdown=False)]
        assert sorted(bottom_up) == sorted(dirs) and bottom_up[-1] == "/"
        assert bottom_up.index("/usr/share/doc") < bottom_up.index("/usr/share") < bottom_up.index("/usr")
        # Pruning dirnames in place stops the descent, as os.walk does.
        pruned = []
        for d, dirnames, _ in fs.walk("/"):
            pruned.append(d)
            if "usr" in dirnames:
                dirnames.remove("usr")
        assert not any(d.startswith("/usr") for d in pruned) and "/var/log" in pruned
        # An unreadable top goes to onerror.
        errors: list[BaseException] = []
        assert list(fs.walk("/no/such/dir", onerror=errors.append)) == []
        assert len(errors) == 1 and isinstance(errors[0], berth.NotFoundError)


def test_scan_streams_every_entry_and_skips_directories(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        with fs.scan("/") as stream:
            entries = {path: st.type for path, st in stream}
        assert entries["/"] == "dir" and entries["/etc/os-release"] == "symlink"
        assert entries["/usr/share/doc/sample/CHANGES"] == "file"
        walked = {os.path.join(d, n) for d, dirs, files in fs.walk("/") for n in dirs + files} | {"/"}
        assert set(entries) == walked
        with fs.scan("/") as stream:
            seen = []
            for path, st in stream:
                seen.append(path)
                if path == "/usr":
                    stream.skip_dir()
        assert "/usr" in seen and not any(p.startswith("/usr/") for p in seen)


def test_scandir_entries_are_like_os_direntry(sample: berth.Runtime) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        entries = {e.name: e for e in fs.scandir("/etc")}
        assert sorted(entries) == ["hostname", "motd", "os-release"]
        link = entries["os-release"]
        assert link.path == "/etc/os-release" and os.fspath(link) == "/etc/os-release"
        assert link.is_symlink() and link.is_file() and not link.is_file(follow_symlinks=False)
        assert link.stat().type == "file" and link.stat(follow_symlinks=False).type == "symlink"
        assert not entries["motd"].is_dir() and entries["motd"].is_file()


def test_files_are_raw_io_for_tarfile_hashlib_and_shutil(sample: berth.Runtime, tmp_path: pathlib.Path) -> None:
    with sample.open_image("sample") as image, image.filesystem() as fs:
        want = fs.read_bytes("/usr/lib/os-release")
        with fs.open("/etc/os-release", buffering=0) as raw:
            assert isinstance(raw, io.RawIOBase) and isinstance(raw, berth.File)
            assert raw.readable() and raw.seekable() and not raw.writable()
            buf = bytearray(4)
            assert raw.readinto(buf) == 4 and bytes(buf) == want[:4]
            assert raw.tell() == 4
            assert raw.seek(-3, io.SEEK_END) == len(want) - 3 and raw.read() == want[-3:]
            assert raw.read() == b""  # at the end
            assert raw.seek(0) == 0 and raw.readall() == want
            assert raw.pread(5, 2) == want[2:7] and raw.tell() == len(want)
            assert raw.stat().path == "/usr/lib/os-release"
            with pytest.raises(io.UnsupportedOperation):
                raw.fileno()
            with pytest.raises(berth.InvalidArgumentError):
                raw.seek(-1)
        assert raw.closed
        with pytest.raises(ValueError):
            raw.read()
        # Buffered by default, as open(path, "rb") is.
        with fs.open("/etc/os-release") as f:
            assert isinstance(f, io.BufferedReader) and f.read() == want
        # shutil and hashlib in chunks.
        with fs.open("/etc/os-release") as f, open(tmp_path / "copy", "wb") as out:
            shutil.copyfileobj(f, out, length=7)
        assert (tmp_path / "copy").read_bytes() == want
        h = hashlib.sha256()
        with fs.open("/etc/os-release") as f:
            while chunk := f.read(3):
                h.update(chunk)
        assert h.hexdigest() == hashlib.sha256(want).hexdigest()
        with fs.open("/etc/os-release") as f:
            assert hashlib.file_digest(f, "sha256").hexdigest() == h.hexdigest()


def test_tarfile_reads_an_archive_inside_an_image(tmp_path: pathlib.Path) -> None:
    # The sample archive itself, put in an image: tarfile reads it through berth.File.
    inner = SAMPLE.read_bytes()
    archive = oci_archive(tmp_path / "t.oci.tar", [Layer([Entry("srv/", "dir"), Entry("srv/sample.tar", data=inner)])])
    with berth.connect(f"oci-archive://{archive}") as rt, rt.open_image("fixture") as image, image.filesystem() as fs:
        with fs.open("/srv/sample.tar", buffering=0) as raw, tarfile.open(fileobj=raw) as tar:
            names = tar.getnames()
            assert "index.json" in names
            member = tar.extractfile("index.json")
            assert member is not None and b"sample:latest" in member.read()


def test_fixture_whiteouts_opaques_links_and_modes(fixture_image: berth.FileSystem) -> None:
    fs = fixture_image
    assert fs.listdir("/data") == ["big.bin", "hard", "link-to-dir", "old"]
    assert fs.listdir("/data/old") == ["b.txt"]
    with pytest.raises(berth.NotFoundError):
        fs.stat("/data/gone.txt")
    # A symlink climbing out of the root resolves inside it.
    assert fs.realpath("/escape") == "/etc/shadow"
    assert fs.read_bytes("/escape") == b"secret\n"
    assert fs.read_bytes("/absolute") == fs.read_bytes("/etc/passwd")
    assert fs.read_bytes("/data/hard") == b"root:x:0:0::/root:/bin/sh\n"
    with pytest.raises(berth.NotFoundError):
        fs.stat("/dangling")
    assert fs.lstat("/dangling").link == "/nowhere"
    tool = fs.stat("/bin/tool")
    assert tool.st_mode & stat.S_ISUID and stat.S_IMODE(tool.st_mode) == 0o4755
    assert stat.S_IMODE(fs.stat("/etc/shadow").st_mode) == 0o600
    big = fs.stat("/data/big.bin")
    assert (big.st_uid, big.st_gid, big.st_size) == (1000, 1000, len(BIG))
    # os.walk's rules: a symlink to a directory is in dirnames, and not walked into; a
    # dangling one is a file name.
    walked = {d: (dirs, files) for d, dirs, files in fs.walk("/")}
    assert "link-to-dir" in walked["/data"][0] and "/data/link-to-dir" not in walked
    assert "dangling" in walked["/"][1]


def test_big_file_reads_and_seeks_match_the_bytes(fixture_image: berth.FileSystem) -> None:
    fs = fixture_image
    assert hashlib.sha256(fs.read_bytes("/data/big.bin")).digest() == hashlib.sha256(BIG).digest()
    with fs.open("/data/big.bin", buffering=0) as raw:
        for offset in (0, 1, 4095, 4096, 65537, len(BIG) - 10):
            raw.seek(offset)
            assert raw.read(100) == BIG[offset : offset + 100]
        h = hashlib.sha256()
        raw.seek(0)
        while chunk := raw.read(65536):
            h.update(chunk)
        assert h.digest() == hashlib.sha256(BIG).digest()
        view = memoryview(bytearray(1000))
        raw.seek(500_000)
        assert raw.readinto(view[100:]) == 900 and bytes(view[100:]) == BIG[500_000:500_900]


def test_whole_file_reads_take_a_limit(tmp_path: pathlib.Path) -> None:
    # One byte over the default limit (64 MiB): refused before it is read, with the
    # size, the limit and the way to stream it; open() streams it.
    size = 64 * 1024 * 1024 + 1
    layer = Layer([Entry("big", data=bytes(size)), Entry("small", data=b"12345")])
    archive = oci_archive(tmp_path / "big.oci.tar", [layer])
    with berth.connect(f"oci-archive://{archive}") as rt, rt.open_image("fixture") as image, image.filesystem() as fs:
        with pytest.raises(berth.InvalidArgumentError) as e:
            fs.read_bytes("/big")
        assert isinstance(e.value, ValueError)
        message = str(e.value)
        assert "the file is 67108865 bytes, over the limit of 67108864 bytes" in message, message
        assert "berth_fs_open" in message
        with pytest.raises(berth.InvalidArgumentError):
            fs.read_text("/big", encoding="latin-1")
        # Exactly the limit reads it.
        assert len(fs.read_bytes("/big", limit=size)) == size
        with fs.open("/big", buffering=0) as raw:
            total = 0
            while chunk := raw.read(1 << 20):
                total += len(chunk)
            assert total == size
        # A small limit: over it refused, at it read; None is the default.
        with pytest.raises(berth.InvalidArgumentError) as e:
            fs.read_bytes("/small", limit=4)
        assert "the file is 5 bytes, over the limit of 4 bytes" in str(e.value)
        assert fs.read_text("/small", limit=5) == "12345"
        assert fs.read_bytes("/small", limit=None) == b"12345" == fs.read_bytes("/small")
        for bad in (0, -1):
            with pytest.raises(ValueError) as v:
                fs.read_bytes("/small", limit=bad)
            assert not isinstance(v.value, berth.Error) and "limit must be a positive number" in str(v.value)


def test_docker_archive_and_oci_layout(tmp_path: pathlib.Path) -> None:
    # An OCI layout directory: the sample archive unpacked.
    layout = tmp_path / "layout"
    with tarfile.open(SAMPLE) as tar:
        tar.extractall(layout, filter="tar")
    with berth.connect(f"oci://{layout}") as rt:
        assert rt.info["kind"] == "oci"
        with rt.open_image("sample") as image, image.filesystem() as fs:
            assert "ID=berth-sample" in fs.read_text("/etc/os-release")


def test_corrupt_and_missing_archives_raise(tmp_path: pathlib.Path) -> None:
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(SAMPLE.read_bytes()[:3000])
    with pytest.raises((berth.CorruptError, berth.NotFoundError)) as e:
        with berth.connect(f"oci-archive://{truncated}") as rt:
            with rt.open_image("sample") as image, image.filesystem() as fs:
                fs.read_bytes("/etc/os-release")
    assert str(e.value)
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"this is not a tar archive" * 100)
    with pytest.raises(berth.CorruptError) as ce:
        berth.connect(f"oci-archive://{garbage}")
    assert isinstance(ce.value, ValueError) and "garbage.tar" in str(ce.value)
    with pytest.raises(berth.NotFoundError):
        berth.connect(f"oci-archive://{tmp_path / 'missing.tar'}")
    # A layer whose bytes are not what the manifest says: the digest check catches it.
    archive = oci_archive(tmp_path / "bad.oci.tar", [Layer([Entry("f", data=b"x" * 1000)], gzip=False)])
    data = bytearray(archive.read_bytes())
    at = data.find(b"x" * 1000)
    data[at : at + 4] = b"yyyy"
    archive.write_bytes(bytes(data))
    with pytest.raises(berth.CorruptError):
        with berth.connect(f"oci-archive://{archive}") as rt, rt.open_image("fixture") as image:
            with image.filesystem() as fs:
                fs.read_bytes("/f")


def test_daemon_calls_on_an_offline_runtime_are_not_supported(sample: berth.Runtime) -> None:
    with pytest.raises(berth.NotSupportedError) as e:
        list(sample.containers())
    assert isinstance(e.value, NotImplementedError)
    # A pull's failure comes from its stream, as in C.
    with sample.pull("example.com/busybox:latest") as stream, pytest.raises(berth.NotSupportedError):
        next(stream)
    with pytest.raises(berth.NotSupportedError):
        list(sample.pods())
