"""Evidence packs: hashed, signed, and every kind of tampering named."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from assay.governance import (
    EvidenceError,
    build_pack,
    extract_pack,
    generate_keypair,
    verify_pack,
)


@pytest.fixture
def outdir(tmp_path, report) -> Path:
    from assay.core.audit_result import write_outputs

    d = tmp_path / "audit"
    write_outputs(report, d)
    (d / "datasheet.md").write_text("# Datasheet\n", encoding="utf-8")
    (d / "notes.txt").write_text("not part of the evidence", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    return generate_keypair(d / "a"), generate_keypair(d / "b")


@pytest.fixture
def pack(outdir, keys, tmp_path) -> Path:
    (key, _), _ = keys
    out = tmp_path / "evidence.zip"
    build_pack(outdir, out, private_key=key)
    return out


def rewrite(src: Path, dst: Path, *, change=None, add=None, drop=(), raw_infos=()):
    """Copy a zip, changing, adding or dropping entries (an attacker re-zipping)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            if change and info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
        for info, data in raw_infos:
            zout.writestr(info, data)
    return dst


def kinds(result) -> set[tuple[str, str]]:
    return {(p.kind, p.name) for p in result.problems}


def test_pack_verifies_with_its_key(pack, keys):
    (_, pub), _ = keys
    result = verify_pack(pack, public_key=pub)
    assert result.ok and result.signed and result.key_checked, result.problems
    assert set(result.files) == {
        "report.json",
        "report.html",
        "junit.xml",
        "model_card.md",
        "datasheet.md",
        "fingerprints.json",
    }
    names = zipfile.ZipFile(pack).namelist()
    assert "notes.txt" not in names and "manifest.sig" in names
    manifest = json.loads(zipfile.ZipFile(pack).read("manifest.json"))
    assert manifest["signature"]["algorithm"] == "Ed25519"
    fps = json.loads(zipfile.ZipFile(pack).read("fingerprints.json"))
    assert fps["data"]["train"]["file_sha256"] == "ab" * 32
    assert fps["data"]["test"]["fingerprint"] == "sha256:" + "ef" * 32
    assert fps["model"]["path"] == "/models/m.skops"


def test_without_key_the_signer_is_not_vouched_for(pack):
    result = verify_pack(pack)
    assert result.ok and result.signed and not result.key_checked
    assert any("No --key was given" in n for n in result.notes)


def test_one_byte_changed(pack, tmp_path, keys):
    (_, pub), _ = keys

    def flip(data: bytes) -> bytes:
        return data[:100] + bytes([data[100] ^ 1]) + data[101:]

    bad = rewrite(pack, tmp_path / "bad.zip", change={"report.json": flip})
    result = verify_pack(bad, public_key=pub)
    assert not result.ok and kinds(result) == {("changed", "report.json")}
    assert "SHA-256" in result.problems[0].message


def test_one_byte_changed_in_the_zip_itself(pack, tmp_path, keys):
    (_, pub), _ = keys
    raw = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as zf:
        info = zf.getinfo("model_card.md")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    bad = tmp_path / "raw.zip"
    bad.write_bytes(bytes(raw))
    result = verify_pack(bad, public_key=pub)
    assert not result.ok and kinds(result) == {("changed", "model_card.md")}


def test_file_added(pack, tmp_path, keys):
    (_, pub), _ = keys
    bad = rewrite(pack, tmp_path / "bad.zip", add={"extra.csv": b"a,b\n"})
    result = verify_pack(bad, public_key=pub)
    assert not result.ok and kinds(result) == {("added", "extra.csv")}


def test_file_removed(pack, tmp_path, keys):
    (_, pub), _ = keys
    bad = rewrite(pack, tmp_path / "bad.zip", drop={"junit.xml"})
    result = verify_pack(bad, public_key=pub)
    assert not result.ok and kinds(result) == {("removed", "junit.xml")}


def test_wrong_key(pack, keys):
    _, (_, other_pub) = keys
    result = verify_pack(pack, public_key=other_pub)
    assert not result.ok and kinds(result) == {("signature", "manifest.sig")}
    assert "not with the key you gave" in result.problems[0].message


def test_manifest_edited_to_hide_a_change(pack, tmp_path, keys):
    """An attacker changes a file and its hash in the manifest: the signature catches it."""
    (_, pub), _ = keys
    new_report = b'{"checks": []}'
    import hashlib

    def fix_manifest(data: bytes) -> bytes:
        m = json.loads(data)
        m["files"]["report.json"] = {
            "sha256": hashlib.sha256(new_report).hexdigest(),
            "bytes": len(new_report),
        }
        return json.dumps(m, indent=2, sort_keys=True).encode()

    bad = rewrite(
        pack,
        tmp_path / "bad.zip",
        change={"report.json": lambda _: new_report, "manifest.json": fix_manifest},
    )
    for key in (pub, None):
        result = verify_pack(bad, public_key=key)
        assert not result.ok and ("signature", "manifest.json") in kinds(result)


def test_signature_removed(pack, tmp_path, keys):
    (_, pub), _ = keys
    bad = rewrite(pack, tmp_path / "bad.zip", drop={"manifest.sig"})
    assert kinds(verify_pack(bad, public_key=pub)) == {("removed", "manifest.sig")}


def test_unsigned_pack(outdir, tmp_path, keys):
    (_, pub), _ = keys
    out = tmp_path / "unsigned.zip"
    manifest = build_pack(outdir, out)
    assert manifest["signature"]["algorithm"] is None
    result = verify_pack(out)
    assert result.ok and not result.signed and "not signed" in result.notes[0]
    with_key = verify_pack(out, public_key=pub)
    assert not with_key.ok and kinds(with_key) == {("signature", "manifest.json")}


@pytest.mark.parametrize(
    ("name", "mode", "reason"),
    [
        ("../evil.txt", 0o644, "leaves the pack"),
        ("/etc/evil.txt", 0o644, "absolute"),
        ("C:/evil.txt", 0o644, "absolute"),
        ("sub/../../evil.txt", 0o644, "leaves the pack"),
        ("link.md", stat.S_IFLNK | 0o777, "symbolic link"),
        ("sub/inner.txt", 0o644, "folder"),
    ],
)
def test_unsafe_entries_are_refused(pack, tmp_path, keys, name, mode, reason):
    (_, pub), _ = keys
    info = zipfile.ZipInfo(name)
    info.external_attr = (mode if mode & 0o170000 else stat.S_IFREG | mode) << 16
    bad = rewrite(pack, tmp_path / "bad.zip", raw_infos=[(info, b"/etc/passwd")])
    result = verify_pack(bad, public_key=pub)
    assert not result.ok and kinds(result) == {("unsafe", name)}
    assert reason in result.problems[0].message
    dest = tmp_path / "out"
    with pytest.raises(EvidenceError, match="nothing was extracted"):
        extract_pack(bad, dest, public_key=pub)
    assert not dest.exists() and not (tmp_path / "evil.txt").exists()


def test_extract_writes_only_inside_the_folder(pack, tmp_path, keys):
    (_, pub), _ = keys
    dest = tmp_path / "unpacked"
    result = extract_pack(pack, dest, public_key=pub)
    assert result.ok
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [*result.files, "manifest.json", "manifest.sig"]
    )
    with pytest.raises(EvidenceError, match="not an empty folder"):
        extract_pack(pack, dest, public_key=pub)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(EvidenceError, match="symbolic link"):
        extract_pack(pack, link, public_key=pub)


def test_keys_and_inputs(outdir, tmp_path, keys):
    (key, pub), _ = keys
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    with pytest.raises(EvidenceError, match="already exists"):
        generate_keypair(key.parent)
    with pytest.raises(EvidenceError, match="not an unencrypted PEM private key"):
        build_pack(outdir, tmp_path / "x.zip", private_key=pub)
    with pytest.raises(EvidenceError, match=r"no report\.json"):
        build_pack(tmp_path, tmp_path / "x.zip")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(EvidenceError, match="not a readable zip"):
        verify_pack(junk)
