"""One escaping function per output format: HTML, Markdown, XML (JUnit) and CSV.

Every string a renderer writes that came from a report (column names, category
values, summaries, owner fields, file names) goes through exactly one of these;
no renderer escapes by hand. Each function takes any value (``None``, numbers,
hostile strings) and never raises.

========================  ====================================================
format                    function
========================  ====================================================
HTML text, attributes     :func:`html_text`, :func:`html_attr`
Markdown text, code       :func:`markdown_text`, :func:`markdown_code`
XML 1.0 text, attributes  :func:`xml_text`, :func:`xml_attr`
CSV cell                  :func:`csv_cell` (the formula neutralizer of
                          :mod:`assay.io.export`, re-exported)
========================  ====================================================

All of them first drop the characters XML 1.0 forbids (:func:`clean_text`:
C0 controls other than tab, newline and carriage return, DEL, C1 controls,
lone surrogates, U+FFFE and U+FFFF), which no document needs either.

Examples
--------
>>> html_text('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> markdown_text("![t](http://evil.example/b.png)")
'!\\\\[t\\\\](http\\\\://evil.example/b.png)'
>>> xml_attr('a"\\x00b')
'a&quot;b'
>>> csv_cell("=cmd|' /C calc'!A0")
"'=cmd|' /C calc'!A0"
"""

from __future__ import annotations

import html
import re
from typing import Any

from assay.io.export import neutralize_cell as csv_cell

__all__ = [
    "MARKDOWN_TEXT_LIMIT",
    "clean_text",
    "csv_cell",
    "html_attr",
    "html_text",
    "markdown_code",
    "markdown_text",
    "xml_attr",
    "xml_text",
]

MARKDOWN_TEXT_LIMIT = 4000
"""Characters of one value in a Markdown document (default 4,000).

Longer values (a hostile or runaway summary, a column name of a megabyte) are
cut there and end with ``…``; ``report.json`` keeps them whole.
"""

# Characters Markdown (CommonMark + GFM tables and strikethrough) reads as
# syntax anywhere in a line: emphasis, code, links and images, table cells.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
# Schemes a renderer may turn into a link (GFM autolinks) or that run code;
# their colon is escaped so no renderer sees a URL.
_MD_SCHEME = re.compile(r"(?i)(javascript|vbscript|data|file|https?|ftp|mailto)(:)")
_MD_WWW = re.compile(r"(?i)(www)(\.)")
# Markers that open a block (heading, quote, list, thematic break) at the start.
_MD_LEADING = re.compile(r"^(#|>|[-+=](?=[-+= ]|$))")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])(?= |$)")
_XML_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_XML_ATTR = {**_XML_TEXT, '"': "&quot;", "'": "&apos;", "\n": "&#10;", "\t": "&#9;"}
_XML_TEXT_RE = re.compile("[&<>\r]")
_XML_ATTR_RE = re.compile("[&<>\r\"'\n\t]")


def clean_text(value: Any) -> str:
    """``str(value)`` without the characters XML 1.0 forbids (see the module docs).

    >>> clean_text("a\\x00b\\x1bc\\tx")
    'abc\\tx'
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(ch for ch in text if _legal_char(ch))


def _legal_char(ch: str) -> bool:
    cp = ord(ch)
    if cp in (0x9, 0xA, 0xD):
        return True
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return False
    return not (0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF))


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


# -- HTML -------------------------------------------------------------------------
def html_text(value: Any) -> str:
    """``value`` as HTML text: ``& < > " '`` escaped, illegal characters dropped.

    ``None`` gives ``""``. The result is also safe in a double-quoted attribute.
    """
    if value is None:
        return ""
    return html.escape(clean_text(value), quote=True)


def html_attr(value: Any) -> str:
    """``value`` for a double-quoted HTML attribute (``title="..."``).

    The same escaping as :func:`html_text` (quotes included); the caller always
    writes the quotes. Never use it to build a URL from report data.
    """
    return html_text(value)


# -- Markdown ---------------------------------------------------------------------
def _one_line(value: Any, limit: int | None) -> str:
    """Control characters dropped, every run of whitespace one space, cut to ``limit``."""
    return _cut(" ".join(clean_text(value).split()), limit)


def markdown_text(value: Any, limit: int | None = MARKDOWN_TEXT_LIMIT) -> str:
    """``value`` as literal Markdown text on one line, safe in a paragraph, list or table cell.

    Renders as the same characters it holds, never as markup: HTML tags and
    autolinks (``<`` and ``&`` as entities), emphasis, code spans, links and
    images (``\\`` `` ` `` ``*`` ``_`` ``[`` ``]`` ``|`` ``~`` backslash-escaped),
    URLs (the colon of ``javascript:``, ``data:``, ``http:``... and the dot of
    ``www.`` escaped, so no renderer links them), a leading ``#`` or ``>``, and a
    leading ``-``, ``+``, ``=`` or ``1.`` that would open a list or a rule
    (escaped, so no heading, quote, list or rule opens; ``-3`` stays ``-3``).
    Newlines and other whitespace become single spaces; control characters are
    dropped; text longer than ``limit`` (:data:`MARKDOWN_TEXT_LIMIT`) is cut.
    ``None`` gives ``""``.

    >>> markdown_text("# [x](javascript:alert(1)) <b>|")
    '\\\\# \\\\[x\\\\](javascript\\\\:alert(1)) &lt;b>\\\\|'
    """
    if value is None:
        return ""
    text = _one_line(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_SCHEME.sub(r"\1\\\2", text)
    text = _MD_WWW.sub(r"\1\\\2", text)
    text = _MD_ORDERED.sub(r"\1\\\2", text)
    return _MD_LEADING.sub(r"\\\1", text)


def markdown_code(value: Any, limit: int | None = MARKDOWN_TEXT_LIMIT) -> str:
    """``value`` as a Markdown code span, shown verbatim, safe in a table cell.

    Nothing inside a code span is markup; the fence is one backtick longer
    than the longest run of backticks in the value, pipes are escaped for
    tables, and whitespace and control characters are handled as in
    :func:`markdown_text`. ``None`` and empty text give ``""``.

    >>> markdown_code("a`b|c")
    '``a`b\\\\|c``'
    """
    if value is None:
        return ""
    text = _one_line(value, limit).replace("|", "\\|")
    if not text:
        return ""
    run = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# -- XML (JUnit) ------------------------------------------------------------------
def xml_text(value: Any, limit: int | None = None) -> str:
    """``value`` as XML 1.0 character data: illegal characters dropped, ``& < >`` escaped.

    A carriage return is written as ``&#13;`` so that it survives XML
    line-end normalization. ``None`` gives ``""``; text longer than ``limit``
    is cut with ``…``.
    """
    if value is None:
        return ""
    text = _cut(clean_text(value), limit)
    return _XML_TEXT_RE.sub(lambda m: _XML_TEXT[m.group()], text)


def xml_attr(value: Any, limit: int | None = None) -> str:
    """``value`` for a double-quoted XML 1.0 attribute: as :func:`xml_text`, plus quotes,
    and tab and newline as character references (attribute normalization would
    otherwise turn them into spaces)."""
    if value is None:
        return ""
    text = _cut(clean_text(value), limit)
    return _XML_ATTR_RE.sub(lambda m: _XML_ATTR[m.group()], text)
