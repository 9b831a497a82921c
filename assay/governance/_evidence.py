"""The evidence pack: the audit's documents in one zip, hashed and signed.

``build_pack`` bundles ``report.json`` and the documents rendered from it
(``report.html``, ``model_card.md``, ``datasheet.md``, ``junit.xml``) with the
inputs' fingerprints (``fingerprints.json``) and a manifest holding the
SHA-256 of every file (``manifest.json``). With an Ed25519 private key the
manifest is signed (``manifest.sig``) and the public key is recorded in it.

``verify_pack`` checks every hash and the signature and names each problem:
a file changed, added or removed, an unsafe entry, a bad signature or a key
that is not the one expected. Hashes alone prove nothing about who made a
pack (anyone who edits it can recompute them and drop the signature), so
``require_signature=True`` makes an unsigned pack fail, and a pack checked
against a given public key must carry a valid signature by that key. The
manifest is parsed with bounded nesting (:mod:`assay.io._safejson`).
``verify_pack`` never extracts anything; ``extract_pack`` verifies first, then
writes only the manifest's files, only inside the target folder (no ``..``,
no absolute paths, no symlinks, nothing overwritten).

Example
-------
>>> from pathlib import Path
>>> import tempfile, json
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "report.json").write_text(json.dumps({"checks": [], "inputs": {}}))
>>> key, pub = generate_keypair(d / "keys")
>>> _ = build_pack(d, d / "evidence.zip", private_key=key)
>>> verify_pack(d / "evidence.zip", public_key=pub).ok
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assay._version import __version__
from assay.errors import InputError, MissingExtraError
from assay.io._safejson import loads_bounded

FORMAT = "assay-evidence-pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FINGERPRINTS = "fingerprints.json"
PACKED_FILES = ("report.json", "report.html", "model_card.md", "datasheet.md", "junit.xml")
KEY_NAME = "assay-signing"
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one file in a pack (reports are far smaller)
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # all files together, as the zip declares them
MAX_MEMBERS = 1000
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same files give the same zip entries
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

ProblemKind = Literal["changed", "added", "removed", "unsafe", "signature", "manifest"]


class EvidenceError(InputError):
    """An evidence pack, key or folder that cannot be used as given."""


@dataclass(frozen=True)
class Problem:
    """One reason a pack failed verification, naming the file or the key."""

    kind: ProblemKind
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify_pack`."""

    ok: bool
    problems: tuple[Problem, ...]
    files: tuple[str, ...] = ()
    signed: bool = False
    key_id: str | None = None
    key_checked: bool = False
    notes: tuple[str, ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict)


# -- keys -----------------------------------------------------------------------
def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("cryptography", "governance", "signing evidence packs") from None
    return ed25519


def key_id(public_raw: bytes) -> str:
    """A short, stable name of a public key: ``sha256:`` and 16 hex digits."""
    return "sha256:" + hashlib.sha256(public_raw).hexdigest()[:16]


def _public_raw(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def generate_keypair(out_dir: str | Path, name: str = KEY_NAME) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``NAME.key`` (private, mode 600) and ``NAME.pub``.

    Existing files are never overwritten. Returns ``(private_path, public_path)``.
    """
    ed25519 = _crypto()
    from cryptography.hazmat.primitives import serialization

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = out / f"{name}.key", out / f"{name}.pub"
    for p in (priv_path, pub_path):
        if p.exists() or p.is_symlink():
            raise EvidenceError(f"key file {p} already exists; choose another folder or name")
    key = ed25519.Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    pub = key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(priv)
    fd = os.open(pub_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pub)
    return priv_path, pub_path


def _read_key_file(path: str | Path) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise EvidenceError(f"key file {p} does not exist; make a key pair with `assay keygen`")
    data = p.read_bytes()
    if len(data) > 64 * 1024:
        raise EvidenceError(f"key file {p} is too large to be a key")
    return data


def load_private_key(path: str | Path) -> Any:
    """Read an Ed25519 private key (PEM, unencrypted) as written by :func:`generate_keypair`."""
    ed25519 = _crypto()
    from cryptography.hazmat.primitives import serialization

    data = _read_key_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise EvidenceError(
            f"key file {path} is not an unencrypted PEM private key; "
            "make one with `assay keygen` (give the .key file, not the .pub)"
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise EvidenceError(f"key file {path} is not an Ed25519 key; make one with `assay keygen`")
    return key


def load_public_key(path: str | Path) -> Any:
    """Read an Ed25519 public key (PEM); a private key file gives its public half."""
    ed25519 = _crypto()
    from cryptography.hazmat.primitives import serialization

    data = _read_key_file(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise EvidenceError(
                f"key file {path} is not a PEM public key; give the .pub file from `assay keygen`"
            ) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise EvidenceError(f"key file {path} is not an Ed25519 key; make one with `assay keygen`")
    return key


# -- building -------------------------------------------------------------------
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprints(report: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs' fingerprints from a report: data files, their shapes, the model."""
    inputs = report.get("inputs")
    if not isinstance(inputs, Mapping):
        inputs = {}
    keep = ("path", "kind", "file_sha256", "fingerprint", "rows", "columns")
    data = {
        name: {k: v[k] for k in keep if k in v}
        for name, v in inputs.items()
        if isinstance(v, Mapping) and ("rows" in v or "fingerprint" in v or "file_sha256" in v)
    }
    return {
        "report_created_at": report.get("created_at"),
        "assay_version": report.get("assay_version"),
        "data": data,
        "model": inputs.get("model"),
        "settings": {
            k: v
            for k, v in (report.get("settings") or {}).items()
            if k in ("seed", "n_bootstrap", "confidence", "max_rows_model_checks")
        },
    }


def _canonical(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def build_pack(
    src_dir: str | Path,
    out_zip: str | Path,
    *,
    private_key: str | Path | None = None,
) -> dict[str, Any]:
    """Bundle the audit outputs in ``src_dir`` into ``out_zip``; return the manifest.

    ``src_dir`` must hold ``report.json``; ``report.html``, ``model_card.md``,
    ``datasheet.md`` and ``junit.xml`` are added when present. Without
    ``private_key`` the pack is hashed but not signed (the manifest says so).
    The zip is written to a temporary file and moved into place.
    """
    src = Path(src_dir)
    if not src.is_dir():
        raise EvidenceError(f"folder {src} does not exist; give the folder an audit wrote")
    report_path = src / "report.json"
    if not report_path.is_file():
        raise EvidenceError(f"folder {src} has no report.json; give the folder an audit wrote")
    key = load_private_key(private_key) if private_key is not None else None
    contents: dict[str, bytes] = {}
    for name in PACKED_FILES:
        p = src / name
        if p.is_symlink():
            raise EvidenceError(f"{p} is a symbolic link; copy the real file into {src}")
        if p.is_file():
            contents[name] = p.read_bytes()
    try:
        report = loads_bounded(contents["report.json"], where=f"report file {report_path}")
    except InputError as exc:
        raise EvidenceError(str(exc)) from None
    if not isinstance(report, Mapping) or "checks" not in report:
        raise EvidenceError(f"{report_path} is not an Assay report (no 'checks' field)")
    contents[FINGERPRINTS] = _canonical(fingerprints(report))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "assay_version": __version__,
        "packed_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "report": {
            "created_at": report.get("created_at"),
            "assay_version": report.get("assay_version"),
            "gate": report.get("gate"),
            "summary": report.get("summary"),
        },
        "files": {
            name: {"sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in sorted(contents.items())
        },
    }
    if key is not None:
        raw = _public_raw(key.public_key())
        manifest["signature"] = {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw).decode("ascii"),
            "key_id": key_id(raw),
            "signed_file": MANIFEST,
        }
    else:
        manifest["signature"] = {
            "algorithm": None,
            "note": "not signed: the hashes show whether files changed after packing, "
            "but anyone could rebuild this pack; sign it with `assay pack --key`",
        }
    manifest_bytes = _canonical(manifest)
    members = {**contents, MANIFEST: manifest_bytes}
    if key is not None:
        members[SIGNATURE] = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
    _write_zip(Path(out_zip), members)
    return manifest


def _write_zip(out: Path, members: Mapping[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(members):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(info, members[name])
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# -- reading safely -------------------------------------------------------------
def unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry must not be read or extracted, or ``None`` when it is safe."""
    name = info.filename
    if not name or "\x00" in name:
        return "an empty or NUL-containing name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "a path that leaves the pack ('..')"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.is_dir() or len(parts) > 1:
        return "a folder (evidence packs are flat)"
    if not _SAFE_NAME.match(name):
        return "a file name with unusual characters"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"a file larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MiB"
    return None


def _read_members(zip_path: Path) -> tuple[dict[str, bytes | None], list[Problem]]:
    """Every safe entry's bytes (``None`` when unreadable) and the problems met."""
    if not zip_path.is_file():
        raise EvidenceError(f"evidence pack {zip_path} does not exist; check the path")
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EvidenceError(f"{zip_path} is not a readable zip file ({exc})") from None
    members: dict[str, bytes | None] = {}
    problems: list[Problem] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise EvidenceError(f"{zip_path} holds {len(infos):,} entries; not an evidence pack")
        if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:  # reads stop at declared sizes
            raise EvidenceError(f"{zip_path} unpacks to more than 1 GiB; not an evidence pack")
        for info in infos:
            name = info.filename
            reason = unsafe_reason(info)
            if reason is not None:
                problems.append(Problem("unsafe", name, f"refused: {reason}"))
                continue
            if name in members:
                problems.append(Problem("unsafe", name, "refused: the name appears twice"))
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    raise ValueError("larger than its stated size")
                members[name] = data
            except Exception as exc:  # bad CRC, corrupt deflate stream, bad size
                members[name] = None
                problems.append(
                    Problem("changed", name, f"its bytes were altered inside the zip ({exc})")
                )
    return members, problems


# -- verifying ------------------------------------------------------------------
def _short(digest: str) -> str:
    return digest[:12] + "…"


def verify_pack(
    zip_path: str | Path,
    *,
    public_key: str | Path | None = None,
    require_signature: bool = False,
) -> Verification:
    """Check every hash in the manifest and its signature; name every problem.

    Parameters
    ----------
    zip_path
        The evidence pack.
    public_key
        The ``.pub`` file of the key the pack must be signed with. Without it
        a signed pack is checked against the key recorded in its manifest,
        which proves the files match the manifest but not who signed it.
    require_signature
        Fail an unsigned pack (a ``signature`` problem on ``manifest.json``)
        instead of passing it with a note. ``assay verify`` sets this unless
        ``--allow-unsigned`` is given. A pack checked against ``public_key``
        must be signed whatever this says.

    Returns
    -------
    Verification
        ``ok`` is true when nothing was changed, added or removed, every entry
        is safe and the signature (when required or present) is valid.
    """
    expected = load_public_key(public_key) if public_key is not None else None
    members, problems = _read_members(Path(zip_path))
    return _verify(members, problems, expected, require_signature=require_signature)


UNSIGNED_REFUSED = (
    "the pack is not signed: its hashes only show the files match the manifest, and anyone "
    "who edits the pack can recompute them, so nothing shows who made it"
)


def _verify(
    members: Mapping[str, bytes | None],
    problems: list[Problem],
    expected: Any,
    *,
    require_signature: bool = False,
) -> Verification:
    notes: list[str] = []
    manifest_bytes = members.get(MANIFEST)
    if manifest_bytes is None:
        if MANIFEST not in members:
            problems.append(Problem("removed", MANIFEST, "the pack has no manifest"))
        return Verification(ok=False, problems=tuple(problems))
    try:
        manifest = loads_bounded(manifest_bytes, where=MANIFEST)
    except InputError as exc:
        problems.append(Problem("manifest", MANIFEST, f"unreadable: {exc}"))
        return Verification(ok=False, problems=tuple(problems))
    try:
        files = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(files, Mapping):
            raise ValueError(f"format {manifest.get('format')!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problems.append(Problem("manifest", MANIFEST, f"not an Assay manifest ({exc})"))
        return Verification(ok=False, problems=tuple(problems))

    # signature
    sig_info = manifest.get("signature") if isinstance(manifest.get("signature"), Mapping) else {}
    signed = sig_info.get("algorithm") == "Ed25519"
    kid = sig_info.get("key_id") if signed else None
    key_checked = False
    if signed:
        key_checked = _check_signature(manifest_bytes, sig_info, members, expected, problems, notes)
    elif expected is not None:
        problems.append(
            Problem("signature", MANIFEST, "the pack is not signed, but a key was given")
        )
    elif require_signature:
        problems.append(Problem("signature", MANIFEST, UNSIGNED_REFUSED))
    else:
        notes.append(
            "The pack is not signed: its hashes show whether a file changed after packing, "
            "but anyone could rebuild it. Sign packs with `assay pack --key`."
        )

    ok_files = _check_files(members, files, signed, problems)
    return Verification(
        ok=not problems,
        problems=tuple(problems),
        files=tuple(ok_files),
        signed=signed,
        key_id=kid,
        key_checked=key_checked,
        notes=tuple(notes),
        manifest=manifest,
    )


def _check_files(
    members: Mapping[str, bytes | None],
    files: Mapping[str, Any],
    signed: bool,
    problems: list[Problem],
) -> list[str]:
    """The members whose SHA-256 is the manifest's; a member changed, removed or added
    (a signature in an unsigned pack among them) joins ``problems``."""
    ok_files = []
    for name, meta in sorted(files.items()):
        want = meta.get("sha256") if isinstance(meta, Mapping) else None
        if name not in members:
            if not any(p.name == name for p in problems):
                problems.append(Problem("removed", name, "listed in the manifest, not in the pack"))
            continue
        data = members[name]
        if data is None:
            continue  # already reported as changed
        got = sha256_hex(data)
        if got != want:
            problems.append(
                Problem(
                    "changed",
                    name,
                    f"SHA-256 is {_short(got)}, the manifest says {_short(str(want))}",
                )
            )
        else:
            ok_files.append(name)
    extra = {MANIFEST} | ({SIGNATURE} if signed else set())
    for name in sorted(set(members) - set(files) - extra):
        problems.append(Problem("added", name, "in the pack but not in the manifest"))
    if not signed and SIGNATURE in members:
        problems.append(Problem("added", SIGNATURE, "a signature in a pack marked unsigned"))
    return ok_files


def _check_signature(
    manifest_bytes: bytes,
    sig_info: Mapping[str, Any],
    members: Mapping[str, bytes | None],
    expected: Any,
    problems: list[Problem],
    notes: list[str],
) -> bool:
    """Verify ``manifest.sig``; return whether the signer is the expected key."""
    from cryptography.exceptions import InvalidSignature

    ed25519 = _crypto()
    sig_b64 = members.get(SIGNATURE)
    if sig_b64 is None:
        if SIGNATURE not in members:
            problems.append(
                Problem("removed", SIGNATURE, "the manifest is signed, the signature is missing")
            )
        return False
    try:
        signature = base64.b64decode(sig_b64.strip(), validate=True)
        recorded = base64.b64decode(str(sig_info.get("public_key", "")), validate=True)
        recorded_key = ed25519.Ed25519PublicKey.from_public_bytes(recorded)
    except ValueError as exc:
        problems.append(Problem("signature", SIGNATURE, f"unreadable signature or key ({exc})"))
        return False
    recorded_id = key_id(recorded)
    if expected is not None:
        wanted_id = key_id(_public_raw(expected))
        if wanted_id != recorded_id:
            problems.append(
                Problem(
                    "signature",
                    SIGNATURE,
                    f"signed with key {recorded_id}, not with the key you gave ({wanted_id})",
                )
            )
            return False
        verifier = expected
    else:
        verifier = recorded_key
    try:
        verifier.verify(signature, manifest_bytes)
    except InvalidSignature:
        problems.append(
            Problem(
                "signature",
                MANIFEST,
                "the signature does not match the manifest: the manifest or the signature "
                "was changed after signing",
            )
        )
        return False
    if expected is None:
        notes.append(
            f"Signed by key {recorded_id}. No --key was given, so this shows the files match "
            "the signed manifest, not who signed it: pass the signer's .pub file to check."
        )
        return False
    return True


# -- extracting -----------------------------------------------------------------
def extract_pack(
    zip_path: str | Path,
    dest: str | Path,
    *,
    public_key: str | Path | None = None,
    require_signature: bool = False,
) -> Verification:
    """Verify the pack, then write its files into ``dest`` (which must not exist or be empty).

    Only the manifest's files, ``manifest.json`` and ``manifest.sig`` are
    written, each as a new regular file directly inside ``dest``: a pack that
    fails verification, or holds an unsafe entry, writes nothing.
    """
    expected = load_public_key(public_key) if public_key is not None else None
    members, problems = _read_members(Path(zip_path))
    # the very bytes written below
    result = _verify(members, problems, expected, require_signature=require_signature)
    if not result.ok:
        raise EvidenceError(
            f"evidence pack {zip_path} failed verification; nothing was extracted: "
            + "; ".join(str(p) for p in result.problems)
        )
    target = Path(dest)
    if target.is_symlink():
        raise EvidenceError(f"{target} is a symbolic link; extract into a real folder")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise EvidenceError(f"{target} exists and is not an empty folder; choose a new folder")
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    names = [*result.files, MANIFEST] + ([SIGNATURE] if result.signed else [])
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for name in names:
        out = (root / name).resolve()
        if out.parent != root:  # belt and braces: unsafe_reason already refused these
            raise EvidenceError(f"refused to write {name!r} outside {root}")
        data = members[name]
        assert data is not None
        fd = os.open(out, flags, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    return result
