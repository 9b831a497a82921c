"""Paths from users stay inside their allowed folder; archives unpack with no zip-slip."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.io.paths import UnsafePathError, safe_extract, safe_path

TRAVERSALS = [
    "../secret",
    "a/../../secret",
    "..",
    "./..",
    "a/b/../../../secret",
    "..\\secret",
    "a\\..\\..\\secret",
    "%2e%2e/secret",
    "%2e%2e%2fsecret",
    "%2E%2E%2Fsecret",
    "..%2fsecret",
    "..%5csecret",
    "%252e%252e%252fsecret",  # double-encoded
    "%25252e%25252e%25252fsecret",  # triple-encoded
    "\uff0e\uff0e/secret",  # full-width dots
    "\uff0e\uff0e\uff0fsecret",  # full-width dots and slash
    "a/\u2024\u2024/secret",  # one-dot leaders (NFKC: "..")
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "\\\\server\\share\\x",
    "C:\\Windows\\win.ini",
    "c:/windows/win.ini",
    "ok\x00.txt",
    "ok%00.txt",
    "",
    "   ",
]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_traversal_refused(tmp_path, bad):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(UnsafePathError):
        safe_path(bad, root)


def test_refusal_is_an_input_error_naming_the_path(tmp_path):
    with pytest.raises(InputError, match=r"'\.\./x' goes outside its allowed folder"):
        safe_path("../x", tmp_path)


@pytest.mark.parametrize(
    "good", ["report.html", "a/b/c.json", "./a.txt", "a/./b.txt", "...", "a..b", "100%.txt"]
)
def test_ordinary_names_allowed(tmp_path, good):
    got = safe_path(good, tmp_path)
    assert got.is_relative_to(tmp_path.resolve())


def test_absolute_path_inside_root_allowed(tmp_path):
    inside = tmp_path / "sub" / "x.txt"
    assert safe_path(str(inside), tmp_path) == inside.resolve()


def test_symlink_escaping_root_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (root / "link").symlink_to(outside)
    (root / "filelink").symlink_to(outside / "secret")
    for bad in ("link/secret", "filelink", "link"):
        with pytest.raises(UnsafePathError, match="symlink"):
            safe_path(bad, root)


def test_symlink_inside_root_allowed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert safe_path("alias/x", tmp_path) == (tmp_path / "real" / "x").resolve()


def test_symlink_loop_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(UnsafePathError):
        safe_path("a/x", tmp_path)


def test_must_exist(tmp_path):
    with pytest.raises(UnsafePathError, match="does not exist"):
        safe_path("nope.txt", tmp_path, must_exist=True)


# -- archives -------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "evil", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt"]
)
def test_zip_slip_refused_and_nothing_written(tmp_path, evil):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"ok.txt": b"fine", evil: b"pwned"}))
    dest = tmp_path / "out"
    with pytest.raises(UnsafePathError):
        safe_extract(archive, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not (dest / "ok.txt").exists()  # all or nothing


def test_zip_extracts_normally(tmp_path):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"ok.txt": b"fine", "sub/b.txt": b"b"}))
    written = safe_extract(archive, tmp_path / "out")
    assert sorted(p.name for p in written) == ["b.txt", "ok.txt"]
    assert (tmp_path / "out" / "sub" / "b.txt").read_bytes() == b"b"


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tf:
        for m in members:
            payload = data.get(m.name)
            m.size = len(payload) if payload is not None else 0
            tf.addfile(m, io.BytesIO(payload) if payload is not None else None)


def test_tar_traversal_and_links_refused(tmp_path):
    dest = tmp_path / "out"
    cases = []
    m = tarfile.TarInfo("../evil.txt")
    cases.append(([m], {"../evil.txt": b"x"}))
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    cases.append(([link], {}))
    hard = tarfile.TarInfo("hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../etc/passwd"
    cases.append(([hard], {}))
    dev = tarfile.TarInfo("dev")
    dev.type = tarfile.CHRTYPE
    cases.append(([dev], {}))
    for i, (members, data) in enumerate(cases):
        archive = tmp_path / f"t{i}.tar"
        _tar(archive, members, data)
        with pytest.raises(UnsafePathError):
            safe_extract(archive, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not any(dest.iterdir())


def test_tar_extracts_normally(tmp_path):
    archive = tmp_path / "t.tar"
    _tar(archive, [tarfile.TarInfo("a.txt")], {"a.txt": b"hello"})
    written = safe_extract(archive, tmp_path / "out")
    assert [p.read_bytes() for p in written] == [b"hello"]


def test_not_an_archive(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("plain")
    with pytest.raises(InputError, match="not a zip or tar"):
        safe_extract(f, tmp_path / "out")
