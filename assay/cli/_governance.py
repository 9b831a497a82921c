"""Governance commands: ``assay card``, ``keygen``, ``pack``, ``verify``, ``diff``.

Exit codes follow ``assay audit``: 0 fine, 1 a problem found (a pack that
fails verification, a check that got worse), 2 bad usage or unreadable input
(one line on stderr).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from assay.errors import AssayError
from assay.io.paths import check_output_dir, check_output_file

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> None:
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(EXIT_USAGE)


def _say(message: str, *, style: str | None = None, stderr: bool = False) -> None:
    (err if stderr else out).print(message, style=style, soft_wrap=True, markup=False)


def _load_report(path: Path) -> dict[str, Any]:
    from assay.cli.main import load_report_json

    return load_report_json(path)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def card(
    report_json: Annotated[Path, typer.Argument(help="A report.json written by assay.")],
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config with a model_card: section (default: ./assay.yaml)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write the model card.")
    ] = None,
) -> None:
    """Write model_card.md from a report.json and the owner's fields in assay.yaml."""
    from assay.governance import read_owner_fields
    from assay.render.model_card import render_model_card

    report = _load_report(report_json)
    try:
        check_output_file(
            output or report_json.parent / "model_card.md", option="-o", allow_dir=True
        )
        if config is None and Path("assay.yaml").is_file():
            config = Path("assay.yaml")
        owner = read_owner_fields(config) if config is not None else None
        text = render_model_card(report, owner)
    except AssayError as exc:
        _fail(str(exc))
    target = output or report_json.parent / "model_card.md"
    if target.is_dir():
        target = target / "model_card.md"
    _write_text(target, text)
    asks = text.count("**Question for the owner:**")
    _say(f"Model card written to {target.resolve()}")
    if asks:
        _say(
            f"{asks} question(s) for the owner remain: answer them under model_card: in "
            "assay.yaml and run assay card again.",
            stderr=True,
        )


def keygen(
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Folder for the key pair.")] = Path(
        "."
    ),
    name: Annotated[str, typer.Option(help="File name stem of the key pair.")] = "assay-signing",
) -> None:
    """Make an Ed25519 key pair for signing evidence packs (NAME.key and NAME.pub)."""
    from assay.governance import generate_keypair

    try:
        check_output_dir(out_dir, option="-o")
        priv, pub = generate_keypair(out_dir, name)
    except AssayError as exc:
        _fail(str(exc))
    _say(f"Private key: {priv.resolve()} (keep it secret; sign with: assay pack DIR --key {priv})")
    _say(f"Public key:  {pub.resolve()} (share it; verify with: assay verify PACK --key {pub})")


def pack(
    src_dir: Annotated[Path, typer.Argument(help="Folder an audit wrote (with report.json).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The evidence pack to write.")
    ] = Path("evidence.zip"),
    key: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (from assay keygen) to sign with.")
    ] = None,
) -> None:
    """Bundle an audit's documents, input fingerprints and a signed manifest into a zip."""
    from assay.governance import build_pack

    try:
        check_output_file(output, option="-o")
        manifest = build_pack(src_dir, output, private_key=key)
    except AssayError as exc:
        _fail(str(exc))
    files = manifest["files"]
    _say(f"Evidence pack written to {output.resolve()} ({len(files)} files hashed)")
    for name, meta in files.items():
        _say(f"  {name}  sha256 {meta['sha256'][:16]}…")
    sig = manifest["signature"]
    if sig.get("algorithm"):
        _say(f"Signed with Ed25519 key {sig['key_id']}.")
    else:
        _say(
            "warning: the pack is not signed (hashes only): anyone could rebuild it. "
            "Make a key with `assay keygen` and pass --key.",
            stderr=True,
        )


def verify(
    pack_path: Annotated[Path, typer.Argument(help="An evidence pack written by assay pack.")],
    key: Annotated[
        Path | None,
        typer.Option(
            help="The signer's public key (.pub) the pack must be signed with. Without it "
            "only integrity is checked (files match the manifest), NOT who made the pack."
        ),
    ] = None,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Accept a pack that is not signed (integrity only: anyone who edits it can "
            "recompute its hashes). Without this an unsigned pack fails, exit 1.",
        ),
    ] = False,
    extract: Annotated[
        Path | None, typer.Option(help="After verifying, unpack into this new folder.")
    ] = None,
) -> None:
    """Check every file's hash and the signature; name each changed, added or removed file.

    Exits 0 when the pack verifies, 1 when it fails verification, 2 on bad usage.
    An unsigned pack fails (exit 1) unless --allow-unsigned is given: its hashes can be
    recomputed by whoever edits it. Without --key a signed pack is checked against the
    key recorded inside it, which proves integrity but not authenticity (who signed it).
    """
    from assay.governance import extract_pack, verify_pack

    required = not allow_unsigned
    try:
        result = verify_pack(pack_path, public_key=key, require_signature=required)
    except AssayError as exc:
        _fail(str(exc))
    for p in result.problems:
        _say(f"FAILED {p.kind}: {p.name}: {p.message}")
    for note in result.notes:
        _say(f"note: {note}", stderr=True)
    if not result.ok:
        _say(f"{pack_path}: verification failed ({len(result.problems)} problem(s)).")
        if not result.signed and key is None and required:
            _say(
                "The pack is not signed. Ask for a pack signed with `assay pack --key`, or "
                "accept integrity only with --allow-unsigned.",
                stderr=True,
            )
        raise typer.Exit(EXIT_PROBLEM)
    for name in result.files:
        _say(f"ok {name}")
    if result.key_checked:
        _say(f"Signature valid: signed by the key you gave ({result.key_id}).")
    _say(f"{pack_path}: all {len(result.files)} files match the manifest.")
    if not result.key_checked:
        why = "the pack is not signed" if not result.signed else "no --key was given"
        _say(
            f"Authenticity NOT checked ({why}): integrity only, the files match the manifest "
            "but nothing shows who made the pack. Verify with --key SIGNER.pub to check it."
        )
    if extract is not None:
        try:
            extract_pack(pack_path, extract, public_key=key, require_signature=required)
        except AssayError as exc:
            _fail(str(exc))
        _say(f"Unpacked into {extract.resolve()}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "—" if v is None else str(v)


def diff(
    old: Annotated[Path, typer.Argument(help="The earlier report.json.")],
    new: Annotated[Path, typer.Argument(help="The later report.json.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
) -> None:
    """Compare two audits: status changes and metrics that moved beyond their intervals.

    Exits 1 when a check got worse (for CI), 0 otherwise.
    """
    from assay.governance import diff_reports, is_empty, regressions

    a, b = _load_report(old), _load_report(new)
    d = diff_reports(a, b)
    worse = regressions(d)
    if as_json:
        out.print_json(json.dumps(d, ensure_ascii=False))
        raise typer.Exit(EXIT_PROBLEM if worse else EXIT_OK)
    _say(f"Comparing {old} ({a.get('created_at', '?')}) with {new} ({b.get('created_at', '?')})")
    if is_empty(d):
        _say(
            "No differences: every check has the same status and no metric moved beyond "
            "its interval."
        )
        raise typer.Exit(EXIT_OK)
    if d["status_changes"]:
        _say("\nChecks that changed status:")
        for s in d["status_changes"]:
            _say(f"  {s['check_id']}: {_fmt(s['old'])} -> {_fmt(s['new'])} ({s['direction']})")
    if d["metric_changes"]:
        conf = (b.get("settings") or {}).get("confidence")
        level = f"{conf * 100:g}% " if isinstance(conf, float) else ""
        _say(f"\nMetrics that moved beyond their {level}intervals:")
        for m in d["metric_changes"]:
            _say(
                f"  {m['check_id']} {m['metric']}: {_fmt(m['old'])} "
                f"[{_fmt(m['old_low'])}, {_fmt(m['old_high'])}] -> {_fmt(m['new'])} "
                f"[{_fmt(m['new_low'])}, {_fmt(m['new_high'])}] ({m['change']:+.4f})"
            )
    if d["input_changes"]:
        _say("\nInputs that differ:")
        for c in d["input_changes"]:
            _say(f"  {c['input']} {c['field']}: {_fmt(c['old'])} -> {_fmt(c['new'])}")
    if worse:
        _say(f"\n{len(worse)} check(s) got worse: " + ", ".join(s["check_id"] for s in worse))
    raise typer.Exit(EXIT_PROBLEM if worse else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add the governance commands to the ``assay`` app."""
    app.command("card")(card)
    app.command("keygen")(keygen)
    app.command("pack")(pack)
    app.command("verify")(verify)
    app.command("diff")(diff)
