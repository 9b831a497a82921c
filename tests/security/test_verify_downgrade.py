"""``assay verify`` cannot be downgraded: an unsigned pack fails unless explicitly allowed,
a stripped signature fails against a key, and hostile JSON is a named refusal, not a crash."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from assay.governance import EvidenceError, build_pack, generate_keypair, verify_pack
from assay.io._safejson import JSONDepthError, json_depth, loads_bounded

from ..cli.helpers import run_cli

DEEP = 200_000


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return generate_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def audit_dir(tmp_path) -> Path:
    d = tmp_path / "run"
    d.mkdir()
    report = {"checks": [{"id": "data.integrity", "status": "pass"}], "inputs": {}}
    (d / "report.json").write_text(json.dumps(report))
    (d / "model_card.md").write_text("# Model card\n\nLicence: MIT\n")
    return d


@pytest.fixture
def signed(audit_dir, keys, tmp_path) -> Path:
    out = tmp_path / "signed.zip"
    build_pack(audit_dir, out, private_key=keys[0])
    return out


def downgrade(src: Path, dst: Path) -> Path:
    """The attack: edit a file, drop the signature, mark the manifest unsigned, rehash."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    members.pop("manifest.sig")
    members["model_card.md"] = members["model_card.md"].replace(b"MIT", b"proprietary")
    manifest = json.loads(members["manifest.json"])
    manifest["signature"] = {"algorithm": None}
    for name, meta in manifest["files"].items():
        meta["sha256"] = hashlib.sha256(members[name]).hexdigest()
        meta["bytes"] = len(members[name])
    members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def replace_member(src: Path, dst: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == name else zin.read(info))
    return dst


# -- the downgrade ------------------------------------------------------------------
def test_downgraded_pack_fails_without_a_key(signed, tmp_path):
    bad = downgrade(signed, tmp_path / "bad.zip")
    proc = run_cli("verify", bad)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "FAILED signature: manifest.json: the pack is not signed" in proc.stdout
    assert "--allow-unsigned" in proc.stderr and "Traceback" not in proc.stderr


def test_downgraded_pack_fails_with_the_key(signed, tmp_path, keys):
    bad = downgrade(signed, tmp_path / "bad.zip")
    proc = run_cli("verify", bad, "--key", keys[1], "--allow-unsigned")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "not signed, but a key was given" in proc.stdout
    assert not verify_pack(bad, public_key=keys[1]).ok


def test_allow_unsigned_accepts_integrity_only_and_says_so(signed, tmp_path):
    bad = downgrade(signed, tmp_path / "bad.zip")
    proc = run_cli("verify", bad, "--allow-unsigned")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Authenticity NOT checked (the pack is not signed)" in proc.stdout


def test_unsigned_pack_is_not_extracted_without_the_flag(audit_dir, tmp_path):
    pack = tmp_path / "unsigned.zip"
    build_pack(audit_dir, pack)
    dest = tmp_path / "x"
    proc = run_cli("verify", pack, "--extract", dest)
    assert proc.returncode == 1 and not dest.exists()
    with pytest.raises(EvidenceError, match="nothing was extracted"):
        from assay.governance import extract_pack

        extract_pack(pack, dest, require_signature=True)
    assert not dest.exists()
    proc = run_cli("verify", pack, "--allow-unsigned", "--extract", dest)
    assert proc.returncode == 0 and (dest / "report.json").exists()


def test_signed_pack_without_key_passes_but_says_authenticity_not_checked(signed):
    proc = run_cli("verify", signed)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Authenticity NOT checked (no --key was given)" in proc.stdout
    assert "Signature valid" not in proc.stdout


def test_signed_pack_with_its_key_still_passes(signed, keys):
    proc = run_cli("verify", signed, "--key", keys[1])
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Signature valid" in proc.stdout and "NOT checked" not in proc.stdout


def test_stripped_signature_fails_with_key_and_without(signed, tmp_path, keys):
    with zipfile.ZipFile(signed) as zin, zipfile.ZipFile(tmp_path / "s.zip", "w") as zout:
        for info in zin.infolist():
            if info.filename != "manifest.sig":
                zout.writestr(info.filename, zin.read(info))
    for extra in (["--key", str(keys[1])], []):
        proc = run_cli("verify", tmp_path / "s.zip", *extra)
        assert proc.returncode == 1, (extra, proc.stdout)
        assert "FAILED removed: manifest.sig" in proc.stdout


def test_verify_help_documents_the_exit_codes():
    proc = run_cli("verify", "--help")
    assert proc.returncode == 0
    assert "--allow-unsigned" in proc.stdout and "exit 1" in proc.stdout


# -- hostile JSON -------------------------------------------------------------------
def test_deeply_nested_manifest_is_a_named_failure(signed, tmp_path):
    deep = ("[" * DEEP + "]" * DEEP).encode()
    bad = replace_member(signed, tmp_path / "deep.zip", "manifest.json", deep)
    proc = run_cli("verify", bad)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "FAILED manifest: manifest.json: unreadable: manifest.json is nested deeper than 64" in (
        proc.stdout
    )
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["report", "card", "diff"])
def test_deeply_nested_report_json_is_one_line(command, tmp_path):
    report = tmp_path / "report.json"
    report.write_text('{"checks": [], "x": ' + "[" * DEEP + "]" * DEEP + "}")
    args = [report, report] if command == "diff" else [report]
    proc = run_cli(command, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"report file {report} is nested deeper than 64 levels" in lines[0]
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "model_card.md").exists()


def test_deeply_nested_report_is_not_packed(audit_dir, tmp_path):
    (audit_dir / "report.json").write_text('{"checks": ' + "[" * DEEP + "]" * DEEP + "}")
    with pytest.raises(EvidenceError, match="nested deeper than 64"):
        build_pack(audit_dir, tmp_path / "e.zip")
    assert not (tmp_path / "e.zip").exists()


def test_bounded_loader_edges():
    assert loads_bounded("[" * 64 + "]" * 64, where="x") is not None  # exactly the cap
    with pytest.raises(JSONDepthError, match="x is nested deeper than 64"):
        loads_bounded("[" * 65 + "]" * 65, where="x")
    assert json_depth('{"a": "[[[[{{{{", "b": [1, "\\"["]}') == 2  # brackets in strings
    with pytest.raises(JSONDepthError):
        loads_bounded('{"a": ' + "{" * 10 + "}" * 10 + "}", max_depth=5, where="y")
    with pytest.raises(ValueError, match="y is not valid JSON"):
        loads_bounded("{", where="y")
    assert loads_bounded(b'{"checks": []}', where="z") == {"checks": []}
