"""De-identify a table: replace, mask, hash or redact the personal data in it.

:func:`anonymize` decides, column by column, what to change, and does it with
Presidio's ``AnonymizerEngine`` (the ``pii`` extra):

- a column given in ``columns``, a column where one kind of personal data
  fills at least ``whole_share`` of the rows (an e-mail column), and a column
  named like a direct identifier that no pattern can confirm (``last_name``,
  ``dob``, ``address``) is de-identified **whole**: every value, detected or not,
  so a malformed phone number in a phone column is not left behind;
- in any other text column, every value that could hold personal data is
  analyzed (no sampling here) and only the detected spans are replaced: the
  rest of a free-text note stays readable.

Operators (Presidio's): ``replace`` writes ``<EMAIL_ADDRESS>``, ``mask`` writes
``*`` over every character, ``hash`` writes a salted SHA-256 (the same value and
salt give the same hash, so joins on the column still work; pass the same
``salt`` to every file you want to join), ``redact`` removes the text.

A CSV copy written by ``assay anonymize`` has every text cell a spreadsheet
would evaluate as a formula (``=cmd|...``, ``+``, ``-``, ``@``, tab, CR) prefixed
with an apostrophe (:func:`assay.io.export.neutralize_frame`); the frame
returned here is left as it is.

:func:`verify` re-scans a table and lists what personal data remains: values
not scanned before are analyzed in full, and no original value of a column
de-identified whole may survive.

Example
-------
>>> import polars as pl
>>> df = pl.DataFrame({"email": ["ann@example.com", "bob@example.org"], "n": [1, 2]})
>>> out = anonymize(df, operator="replace")  # doctest: +SKIP
>>> out.frame.get_column("email").to_list()  # doctest: +SKIP
['<EMAIL_ADDRESS>', '<EMAIL_ADDRESS>']
>>> verify(out.frame, out)  # doctest: +SKIP
[]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from assay.errors import ConfigError, MissingExtraError, SchemaError

Operator = Literal["mask", "replace", "hash", "redact"]
OPERATORS: tuple[Operator, ...] = ("mask", "replace", "hash", "redact")
WHOLE_SHARE = 0.5
"""A column where one kind of personal data fills this share of rows is de-identified whole."""

_WHOLE_HINTS = {"PERSON", "DATE_OF_BIRTH", "ADDRESS", "ID_NUMBER"}
MIN_SALT_BYTES = 16

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ColumnAction:
    """What :func:`anonymize` did to one column."""

    column: str
    mode: Literal["whole", "spans"]
    reason: str
    entities: dict[str, int]  # kind of data -> distinct values changed
    values_changed: int  # distinct values changed
    rows_changed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "mode": self.mode,
            "reason": self.reason,
            "entities": dict(self.entities),
            "values_changed": self.values_changed,
            "rows_changed": self.rows_changed,
        }


@dataclass(frozen=True)
class Remaining:
    """Personal data :func:`verify` still finds in a column."""

    column: str
    entity: str
    values: int
    example: str  # masked

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "entity": self.entity,
            "values": self.values,
            "example": self.example,
        }


@dataclass(frozen=True)
class AnonymizeResult:
    """The de-identified frame and what was done to it."""

    frame: pl.DataFrame
    actions: tuple[ColumnAction, ...]
    operator: str
    salt_generated: bool
    columns_scanned: tuple[str, ...]
    _clean: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _originals: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)


def _require_presidio() -> None:
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    except ImportError:
        raise MissingExtraError(
            "presidio-analyzer and presidio-anonymizer", "pii", "anonymization"
        ) from None


def _operator_config(operator: str, salt: bytes | None) -> Any:
    from presidio_anonymizer.entities import OperatorConfig

    if operator == "mask":
        return OperatorConfig(
            "mask", {"masking_char": "*", "chars_to_mask": 10**9, "from_end": False}
        )
    if operator == "hash":
        return OperatorConfig("hash", {"hash_type": "sha256", "salt": salt})
    return OperatorConfig(operator, {})


def _salt(operator: str, salt: str | bytes | None) -> tuple[bytes | None, bool]:
    if operator != "hash":
        return None, False
    if salt is None:
        return os.urandom(32), True
    raw = salt.encode() if isinstance(salt, str) else bytes(salt)
    if len(raw) < MIN_SALT_BYTES:
        raise ConfigError(
            f"salt must be at least {MIN_SALT_BYTES} bytes long, got {len(raw)}; "
            "use a long random string and keep it secret"
        )
    return raw, False


def _to_polars(data: Any) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    from assay.io.readers import read_table

    return read_table(data, name="input")[0]


def _replace_values(s: pl.Series, mapping: dict[str, str]) -> tuple[pl.Series, int]:
    """``s`` as text with ``mapping`` applied; the number of rows changed."""
    from assay.security._pii_engine import as_text

    text = as_text(s)
    if not mapping:
        return text, 0
    keys = pl.Series("k", list(mapping), dtype=pl.String)
    vals = pl.Series("v", list(mapping.values()), dtype=pl.String)
    new = text.replace(keys, vals)
    changed = int(text.is_in(keys.implode()).fill_null(False).sum())
    return new.alias(s.name), changed


def _whole_mapping(values: list[str], entity: str, operator: str, config: Any) -> dict[str, str]:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import RecognizerResult

    eng = AnonymizerEngine()
    out = {}
    for v in values:
        if v == "":
            out[v] = v
            continue
        res = [RecognizerResult(entity, 0, len(v), 1.0)]
        out[v] = eng.anonymize(text=v, analyzer_results=res, operators={"DEFAULT": config}).text
    return out


def _span_mapping(
    values: list[str], spans: dict[int, list[Any]], config: Any
) -> tuple[dict[str, str], dict[str, int]]:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import RecognizerResult

    eng = AnonymizerEngine()
    out: dict[str, str] = {}
    counts: dict[str, int] = {}
    for i, found in spans.items():
        res = [RecognizerResult(s.entity, s.start, s.end, s.score) for s in found]
        out[values[i]] = eng.anonymize(
            text=values[i], analyzer_results=res, operators={"DEFAULT": config}
        ).text
        for e in {s.entity for s in found}:
            counts[e] = counts.get(e, 0) + 1
    return out, counts


PLAN_VALUES = 500
"""Distinct candidate values per kind of data analyzed to decide how to treat a column."""


def _plan(
    df: pl.DataFrame, col: str, explicit: bool, whole_share: float, seed: int
) -> tuple[tuple[str, str] | None, Any]:
    """((entity, reason) when ``col`` is de-identified whole, else ``None``; the scan
    already done on it, when it analyzed every candidate value, else ``None``)."""
    from assay.security._pii_engine import KINDS, text_columns
    from assay.security.pii import name_hint, scan_column

    hint = name_hint(col)
    found: dict[str, Any] = {}
    complete = None
    if col in text_columns(df):
        res = scan_column({"data": df}, col, max_values=PLAN_VALUES, seed=seed)
        found = res["entities"]
        if not res["sampled"]:
            complete = res["scan"]
    best = max(found.items(), key=lambda kv: kv[1]["share"]["data"], default=None)
    if explicit:
        entity = best[0] if best else (hint[0] if hint else "PII")
        return (entity, "listed in --columns"), complete
    if best is not None and best[1]["share"]["data"] >= whole_share:
        share = best[1]["share"]["data"]
        return (best[0], f"{KINDS[best[0]].plural} in {share:.0%} of rows"), complete
    if hint is not None and hint[0] in _WHOLE_HINTS:
        return (hint[0], f"named like {hint[1]}"), complete
    return None, complete


def anonymize(
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    operator: Operator = "replace",
    salt: str | bytes | None = None,
    whole_share: float = WHOLE_SHARE,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> AnonymizeResult:
    """De-identify the personal data in a table.

    Parameters
    ----------
    data
        A Polars or pandas DataFrame, or a path to a CSV or Parquet file.
    columns
        De-identify exactly these columns, every value whole. By default the
        columns are chosen from what is found (see the module docs).
    operator
        ``"replace"`` (``<EMAIL_ADDRESS>``), ``"mask"`` (``*****``), ``"hash"``
        (salted SHA-256; joins still work) or ``"redact"`` (removed).
    salt
        The salt for ``"hash"``, at least 16 bytes; a random one when omitted
        (hashes then match within this output only).
    whole_share
        A column where one kind of personal data fills this share of rows is
        de-identified whole.
    progress
        Called as ``progress(column, done, total)``.

    Returns
    -------
    AnonymizeResult

    Raises
    ------
    SchemaError
        A column in ``columns`` is not in the data.
    ConfigError
        An unknown operator, or a salt shorter than 16 bytes.
    MissingExtraError
        Presidio is not installed.
    """
    if operator not in OPERATORS:
        raise ConfigError(f"operator must be one of {', '.join(OPERATORS)}, not {operator!r}")
    _require_presidio()
    df = _to_polars(data)
    candidates = _candidates(df, columns)
    salt_bytes, generated = _salt(operator, salt)
    config = _operator_config(operator, salt_bytes)

    done: dict[str, tuple[Any, ...]] = {}
    for i, col in enumerate(candidates):
        if progress is not None:
            progress(col, i, len(candidates))
        done[col] = _column(df, col, bool(columns), whole_share, seed, operator, config)
    actions = [a for a, _, _, _ in done.values() if a is not None]
    new_cols = {c: new for c, (a, new, _, _) in done.items() if a is not None}
    clean = {c: kept for c, (_, _, kept, _) in done.items() if kept is not None}
    originals = {c: orig for c, (_, _, _, orig) in done.items() if orig is not None}
    if progress is not None:
        progress("done", len(candidates), len(candidates))
    out = df.with_columns(list(new_cols.values())) if new_cols else df
    return AnonymizeResult(
        frame=out,
        actions=tuple(actions),
        operator=operator,
        salt_generated=generated,
        columns_scanned=tuple(candidates),
        _clean=clean,
        _originals=originals,
    )


def _candidates(df: pl.DataFrame, columns: Sequence[str] | None) -> list[str]:
    """The columns to look at: those named (each must exist), else the text columns and
    the columns named like personal data."""
    from assay.io.schema import suggest
    from assay.security._pii_engine import text_columns

    for c in columns or ():
        if c not in df.columns:
            raise SchemaError(f"column {c!r} is not in the data.{suggest(c, df.columns)}")
    candidates = list(columns) if columns else text_columns(df)
    if not columns:
        candidates += [c for c in df.columns if c not in candidates and _plan_hint_only(c)]
    return candidates


def _column(
    df: pl.DataFrame,
    col: str,
    explicit: bool,
    whole_share: float,
    seed: int,
    operator: Operator,
    config: Any,
) -> tuple[ColumnAction | None, pl.Series | None, frozenset[str] | None, frozenset[str] | None]:
    """One column de-identified: whole (every value) when :func:`_plan` says so, else the
    spans of personal data inside its values. Returns (action, new column, the values
    left untouched, the original values replaced whole), None where they do not apply."""
    from assay.security._pii_engine import as_text, scan_values

    s = df.get_column(col)
    values = as_text(s).drop_nulls().unique().sort()
    texts = values.to_list()
    plan, done = _plan(df, col, explicit, whole_share, seed)
    if plan is not None:
        entity, reason = plan
        mapping = _whole_mapping(texts, entity, operator, config)
        new, rows = _replace_values(s, mapping)
        action = ColumnAction(col, "whole", reason, {entity: len(texts)}, len(texts), rows)
        return action, new, None, frozenset(texts)
    scan = done if done is not None else scan_values(values, name=col, seed=seed)
    clean = frozenset(t for j, t in enumerate(texts) if j not in scan.spans)
    if not scan.spans:
        return None, None, clean, None
    mapping, counts = _span_mapping(texts, scan.spans, config)
    new, rows = _replace_values(s, mapping)
    what = "personal data inside the values"
    return ColumnAction(col, "spans", what, counts, len(mapping), rows), new, clean, None


def _plan_hint_only(col: str) -> bool:
    """Non-text columns (dates, small integers) named like a direct identifier."""
    from assay.security.pii import name_hint

    hint = name_hint(col)
    return hint is not None and hint[0] in _WHOLE_HINTS


def verify(frame: Any, result: AnonymizeResult | None = None, *, seed: int = 0) -> list[Remaining]:
    """Personal data that remains in ``frame`` (empty when nothing is found).

    Every distinct value of every text column is analyzed in full, except the
    values ``result`` already analyzed and found clean. For the columns
    ``result`` de-identified whole, any original value still present counts
    as remaining.
    """
    from assay.security._pii_engine import as_text, mask, scan_values, text_columns

    _require_presidio()
    df = _to_polars(frame)
    clean = result._clean if result is not None else {}
    originals = result._originals if result is not None else {}
    remaining: list[Remaining] = []
    for col in text_columns(df):
        values = as_text(df.get_column(col)).drop_nulls().unique().sort()
        known = clean.get(col, frozenset())
        fresh = values.filter(~values.is_in(pl.Series(list(known), dtype=pl.String).implode()))
        scan = scan_values(fresh, name=col, max_values=None, seed=seed)
        texts = fresh.to_list()
        by_entity: dict[str, list[str]] = {}
        for i, spans in sorted(scan.spans.items()):
            for sp in spans:
                by_entity.setdefault(sp.entity, []).append(texts[i][sp.start : sp.end])
        for entity, found in sorted(by_entity.items()):
            remaining.append(Remaining(col, entity, len(found), mask(found[0])))
        if col in originals:
            left = [t for t in values.to_list() if t in originals[col]]
            if left:
                remaining.append(Remaining(col, "ORIGINAL_VALUE", len(left), mask(left[0])))
    for col, orig in originals.items():
        if col in df.columns and col not in text_columns(df):
            left = [t for t in as_text(df.get_column(col)).drop_nulls().to_list() if t in orig]
            if left:
                remaining.append(Remaining(col, "ORIGINAL_VALUE", len(left), mask(left[0])))
    return remaining
