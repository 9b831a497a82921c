"""Paths from users, kept inside the folder they are allowed in; archives unpacked safely.

Any API, CLI argument or service field that takes a path relative to some root
(an output folder, a store, a model's folder) resolves it with
:func:`safe_path`, which refuses everything that could leave the root:
``..`` segments, the same spelled with percent-encoding (``%2e%2e%2f``, also
double-encoded), backslashes or look-alike Unicode (``．．／``), absolute paths
outside the root, NUL bytes, and symlinks whose target is outside the root.
:func:`safe_extract` unpacks zip and tar archives with every member checked the
same way (no "zip-slip"), and refuses links and device files in tars.
:func:`check_output_dir` and :func:`check_output_file` vet where a command will
write before it does any work: an existing file where a folder is needed, a
folder where a file is needed, or a parent that cannot be written is one
:class:`OutputPathError` naming the path, and nothing is created.

Example
-------
>>> import tempfile
>>> root = tempfile.mkdtemp()
>>> safe_path("reports/a.html", root).name
'a.html'
>>> safe_path("../etc/passwd", root)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
assay.io.paths.UnsafePathError: path '../etc/passwd' goes outside its allowed folder (...)
"""

from __future__ import annotations

import os
import tarfile
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from assay.errors import InputError

__all__ = [
    "OutputPathError",
    "UnsafePathError",
    "check_output_dir",
    "check_output_file",
    "safe_extract",
    "safe_path",
]

_MAX_DECODE = 4


class UnsafePathError(InputError):
    """A path that would reach outside the folder it is allowed in."""


class OutputPathError(InputError):
    """An output path that cannot be written as asked (checked before any work starts)."""


def _refuse(raw: object, why: str) -> UnsafePathError:
    return UnsafePathError(f"path {str(raw)!r} goes outside its allowed folder ({why})")


def _spellings(text: str) -> list[str]:
    """``text`` and what it becomes after percent-decoding (repeatedly) and Unicode NFKC."""
    out = [text]
    cur = text
    for _ in range(_MAX_DECODE):
        nxt = unquote(cur)
        if nxt == cur:
            break
        out.append(nxt)
        cur = nxt
    out += [unicodedata.normalize("NFKC", s) for s in list(out)]
    return out


def _segments(text: str) -> list[str]:
    return [s for s in text.replace("\\", "/").split("/") if s]


def safe_path(
    user_path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    *,
    must_exist: bool = False,
) -> Path:
    """Resolve ``user_path`` inside ``root``, or raise :class:`UnsafePathError`.

    Parameters
    ----------
    user_path
        A path as a user gave it: relative to ``root``, or absolute (allowed only
        when it lies inside ``root``).
    root
        The folder the path must stay in.
    must_exist
        Also refuse a path that does not exist.

    Returns
    -------
    Path
        The absolute, symlink-resolved path, inside the resolved ``root``.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> safe_path("%2e%2e%2fsecret", root)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assay.io.paths.UnsafePathError: path '%2e%2e%2fsecret' goes outside its allowed folder (...)
    """
    raw = os.fspath(user_path)
    if isinstance(raw, bytes):  # pragma: no cover - PathLike[bytes]
        raw = raw.decode("utf-8", "surrogateescape")
    if not raw or not raw.strip():
        raise UnsafePathError("path is empty; give a file name inside the allowed folder")
    spellings = _spellings(raw)
    if any("\x00" in s for s in spellings):
        raise _refuse(raw, "a NUL byte")
    for s in spellings:
        if any(seg.strip() == ".." for seg in _segments(s)):
            raise _refuse(raw, "a '..' segment")
    base = Path(root).resolve()
    absolute = [s for s in spellings if s.startswith(("/", "\\")) or PurePosixPath(s).is_absolute()]
    drive = [s for s in spellings if len(s) > 1 and s[1] == ":" and s[0].isalpha()]
    if drive:
        raise _refuse(raw, "a drive letter")
    if absolute and not Path(raw).is_absolute():
        raise _refuse(raw, "an encoded absolute path")
    candidate = Path(raw) if Path(raw).is_absolute() else base / raw
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise _refuse(raw, f"it cannot be resolved: {exc}") from None
    if not resolved.is_relative_to(base):
        why = "a symlink pointing outside" if not Path(raw).is_absolute() else "an absolute path"
        raise _refuse(raw, why)
    if must_exist and not resolved.exists():
        raise UnsafePathError(f"path {raw!r} does not exist inside {base}")
    return resolved


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Unpack a zip or tar archive into ``dest``, refusing any member that would land outside.

    Every member name goes through :func:`safe_path`; tar symlinks, hard links and
    device files are refused (tar extraction also uses Python's ``"data"`` filter).
    Nothing is written unless every member is safe.

    Returns
    -------
    list of Path
        The files written.
    """
    src = Path(archive)
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
            targets = [safe_path(i.filename, out) for i in infos]
            for info in infos:
                mode = (info.external_attr >> 16) & 0o170000
                if mode == 0o120000:
                    raise _refuse(info.filename, "a symlink in the archive")
            written = []
            for info, target in zip(infos, targets, strict=True):
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as fsrc, open(target, "wb") as fdst:
                    while chunk := fsrc.read(1 << 20):
                        fdst.write(chunk)
                written.append(target)
            return written
    if tarfile.is_tarfile(src):
        with tarfile.open(src) as tf:
            members = tf.getmembers()
            for m in members:
                if m.issym() or m.islnk():
                    raise _refuse(m.name, "a link in the archive")
                if not (m.isfile() or m.isdir()):
                    raise _refuse(m.name, "a device or special file in the archive")
                safe_path(m.name, out)
            tf.extractall(out, members=members, filter="data")
            return [safe_path(m.name, out) for m in members if m.isfile()]
    raise InputError(f"{src} is not a zip or tar archive")


# -- output paths, vetted before a command starts its work ---------------------
def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``.`` for a bare relative name)."""
    cur = Path(os.path.abspath(path))
    while not cur.exists() and cur.parent != cur:
        cur = cur.parent
    return cur


def _check_creatable(path: Path, option: str, what: str) -> None:
    """Refuse when ``path`` (absent) could not be created: its ancestor is a file or read-only."""
    anchor = _nearest_existing(path.parent)
    if not anchor.is_dir():
        raise OutputPathError(
            f"{option} {path}: {anchor} is a file, not a folder, so the {what} cannot be "
            "created there; choose another path"
        )
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{option} {path}: folder {anchor} is not writable; choose a folder you can write to"
        )


def check_output_dir(path: str | os.PathLike[str], *, option: str = "--out") -> Path:
    """Refuse an output folder that cannot be used, before anything is written.

    Parameters
    ----------
    path
        The folder a command will write into (created when absent).
    option
        The option that named it, for the message (``--out``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`, unchanged.

    Raises
    ------
    OutputPathError
        When ``path`` is an existing file (or other non-folder), is a folder
        that is not writable, or cannot be created because an ancestor is a
        file or is not writable. Nothing is created either way.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "f.txt").write_text("x")
    >>> check_output_dir(root / "new" / "out").name
    'out'
    >>> check_output_dir(root / "f.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assay.io.paths.OutputPathError: --out .../f.txt is an existing file, not a folder; ...
    """
    p = Path(path)
    if p.exists() or p.is_symlink():
        if not p.is_dir():
            raise OutputPathError(
                f"{option} {p} is an existing file, not a folder; give a folder "
                "(it is created when absent)"
            )
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutputPathError(
                f"{option} {p}: folder is not writable; choose a folder you can write to"
            )
        return p
    _check_creatable(p, option, "folder")
    return p


def check_output_file(
    path: str | os.PathLike[str], *, option: str = "--out", allow_dir: bool = False
) -> Path:
    """Refuse an output file path that cannot be written, before anything is written.

    Parameters
    ----------
    path
        The file a command will write (replaced when it exists).
    option
        The option that named it, for the message (``-o``).
    allow_dir
        Accept an existing folder (the command then writes a default name in it).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`, unchanged.

    Raises
    ------
    OutputPathError
        When ``path`` is an existing folder (unless ``allow_dir``) or special
        file, or its folder cannot be written or created.
    """
    p = Path(path)
    if p.is_dir():
        if allow_dir:
            return check_output_dir(p, option=option)
        raise OutputPathError(f"{option} {p} is a folder; give a file name to write")
    if p.exists() and not p.is_file():
        raise OutputPathError(f"{option} {p} exists and is not a regular file; give a file name")
    parent = p.parent
    if parent.exists() or parent.is_symlink():
        if not parent.is_dir():
            raise OutputPathError(
                f"{option} {p}: {parent} is a file, not a folder; choose another path"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputPathError(
                f"{option} {p}: folder {parent} is not writable; choose a folder you can write to"
            )
        return p
    _check_creatable(p, option, "file's folder")
    return p
