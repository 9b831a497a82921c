"""The governance commands, run as a user runs them."""

from __future__ import annotations

import json
import zipfile

import pytest

from assay.core.audit_result import write_outputs

from ..cli.helpers import run_cli, run_cli_subprocess


@pytest.fixture
def audit_dir(tmp_path, report):
    d = tmp_path / "run"
    write_outputs(report, d)
    return d


def test_card_keygen_pack_verify(audit_dir, tmp_path):
    cfg = tmp_path / "assay.yaml"
    cfg.write_text("target: y\nmodel_card:\n  licence: MIT\n  owners: [Team A]\n")
    proc = run_cli_subprocess("card", audit_dir / "report.json", "--config", cfg)
    assert proc.returncode == 0, proc.stderr
    card = (audit_dir / "model_card.md").read_text()
    assert "- **Licence:** MIT" in card and "- **Owners:** Team A" in card
    assert "question(s) for the owner remain" in proc.stderr

    proc = run_cli_subprocess("keygen", "-o", tmp_path / "keys")
    assert proc.returncode == 0, proc.stderr
    key, pub = tmp_path / "keys" / "assay-signing.key", tmp_path / "keys" / "assay-signing.pub"
    assert key.exists() and pub.exists()
    assert run_cli("keygen", "-o", tmp_path / "keys").returncode == 2  # never overwrites

    pack = tmp_path / "evidence.zip"
    proc = run_cli_subprocess("pack", audit_dir, "-o", pack, "--key", key)
    assert proc.returncode == 0, proc.stderr
    assert "Signed with Ed25519 key" in proc.stdout
    proc = run_cli_subprocess("verify", pack, "--key", pub, "--extract", tmp_path / "x")
    assert proc.returncode == 0, proc.stderr
    assert "Signature valid" in proc.stdout and (tmp_path / "x" / "report.json").exists()

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "model_card.md":
                data = data.replace(b"MIT", b"GPL")
            if info.filename != "junit.xml":
                zout.writestr(info.filename, data)
        zout.writestr("extra.txt", b"x")
    proc = run_cli("verify", tampered, "--key", pub)
    assert proc.returncode == 1
    assert "FAILED changed: model_card.md" in proc.stdout
    assert "FAILED removed: junit.xml" in proc.stdout
    assert "FAILED added: extra.txt" in proc.stdout


def test_pack_and_verify_usage_errors(audit_dir, tmp_path):
    proc = run_cli("verify", audit_dir / "report.json")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    proc = run_cli("pack", tmp_path / "nope", "-o", tmp_path / "e.zip")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = run_cli("pack", audit_dir, "-o", tmp_path / "e.zip")  # unsigned: warns, exit 0
    assert proc.returncode == 0 and "not signed" in proc.stderr


def test_diff_command(audit_dir, tmp_path, report):
    same = run_cli_subprocess("diff", audit_dir / "report.json", audit_dir / "report.json")
    assert same.returncode == 0 and "No differences" in same.stdout
    report["checks"][2]["status"] = "fail"
    newer = tmp_path / "new.json"
    newer.write_text(json.dumps(report))
    proc = run_cli("diff", audit_dir / "report.json", newer)
    assert proc.returncode == 1
    assert "data.provenance: pass -> fail (worse)" in proc.stdout
    proc = run_cli("diff", audit_dir / "report.json", newer, "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["status_changes"][0]["check_id"] == "data.provenance"
