"""JSON from files a user or an attacker may have edited, parsed with bounded nesting.

Python's :func:`json.loads` recurses once per level of nesting, so a document
such as ``[[[[...]]]]`` 200,000 levels deep ends in :class:`RecursionError`
(an "internal error" for the user) instead of a clear refusal. Every JSON file
Assay reads back from disk (``report.json``, an evidence pack's
``manifest.json``) goes through :func:`loads_bounded`, which measures the depth
first, without recursion, and raises one :class:`~assay.errors.InputError`
naming the file for both bad JSON and too-deep JSON.

Example
-------
>>> loads_bounded('{"a": [1, 2]}', where="report file r.json")
{'a': [1, 2]}
>>> loads_bounded("[" * 100 + "]" * 100, where="report file r.json")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
assay.io._safejson.JSONDepthError: report file r.json is nested deeper than 64 levels ...
"""

from __future__ import annotations

import json
import re
from typing import Any

from assay.errors import InputError

__all__ = ["MAX_JSON_DEPTH", "JSONDepthError", "json_depth", "loads_bounded"]

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (default 64; Assay's own
``report.json`` stays under 15)."""

# A string literal (escapes included) or one bracket; everything else is skipped.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONDepthError(InputError):
    """A JSON document nested deeper than the loader allows."""


def json_depth(text: str, *, stop_at: int | None = None) -> int:
    """The deepest nesting of ``[`` and ``{`` in ``text`` (brackets inside strings ignored).

    Parameters
    ----------
    text
        JSON text; it need not be valid.
    stop_at
        Return as soon as this depth is exceeded (the value returned is then
        ``stop_at + 1``), so a hostile document is not scanned to its end.

    Examples
    --------
    >>> json_depth('{"a": [1, {"b": "[[["}]}')
    3
    """
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    return deepest
        elif token in "]}":
            depth = max(depth - 1, 0)
    return deepest


def loads_bounded(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, where: str) -> Any:
    """Parse JSON ``text`` refusing nesting deeper than ``max_depth``.

    Parameters
    ----------
    text
        The document; bytes are decoded as UTF-8.
    max_depth
        Deepest nesting accepted (default :data:`MAX_JSON_DEPTH`, 64).
    where
        What the text is, for the error (``"report file out/report.json"``,
        ``"manifest.json in pack evidence.zip"``).

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    JSONDepthError
        When the document is nested deeper than ``max_depth``.
    InputError
        When it is not UTF-8 or not valid JSON; the message is one line.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
    if json_depth(text, stop_at=max_depth) > max_depth:
        raise JSONDepthError(
            f"{where} is nested deeper than {max_depth} levels of arrays and objects; "
            "it was not written by Assay (or was edited): regenerate it"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where} is not valid JSON ({exc})") from None
    except RecursionError:  # pragma: no cover - json_depth bounds the nesting first
        raise JSONDepthError(f"{where} is nested too deeply to read") from None
