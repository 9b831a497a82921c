"""``data.provenance``: content fingerprints, shapes, schema, versions and seed.

The fingerprint of a table is the SHA-256 of its canonical form, version
``assay-fingerprint-v1``, defined so that it depends on the content only:

1. Columns are taken in order of their names (Unicode code points).
2. Each column gets a *kind* and canonical values, from its values rather than
   its storage type:

   - ``int``: integers of any width, and floats whose present values are all
     whole numbers within ±2**53 (so ``3``, ``3.0`` and an int column read
     with missing values as floats agree); 64-bit little-endian;
   - ``float``: other floats, as 64-bit little-endian IEEE 754, ``-0.0``
     written as ``0.0``; decimals are converted to float;
   - ``bool``: one byte, 0 or 1;
   - ``str``: strings, categoricals and enums as UTF-8, written as the 64-bit
     byte length of every value followed by all values concatenated;
   - ``datetime`` (microseconds since the Unix epoch, in UTC for zoned
     values; dates at midnight), ``duration`` (microseconds) and ``time``
     (microseconds since midnight), as 64-bit integers;
   - ``null``: a column with no present value, whatever its type;
   - anything else (lists, structs, binary, Python objects) as the ``str`` of
     ``repr`` of each value.

   Missing values (null, and NaN in floats) are *marked*: every column writes
   one validity byte per row (1 present, 0 missing) and a zero value (empty
   string) in the missing slot.
3. Rows are sorted by all canonical columns (missing first, numbers by value,
   strings by UTF-8 bytes), taking the columns kind by kind in the order
   float, int, datetime, duration, time, str, bool, null, and by name within
   a kind (continuous columns first make the sort fast: they break most ties
   at once). So the fingerprint ignores row order but not content: a shuffled
   copy has the same fingerprint, one changed value, one duplicated row or
   one renamed column gives another.
4. The hash covers ``assay-fingerprint-v1``, the numbers of rows and columns,
   then, per column, its name (length-prefixed), its kind, the validity bytes
   and the values.

Everything is vectorized with Polars and NumPy, except the last kind above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.registry import Outcome, register_check
from assay.core.result import Finding
from assay.data._common import and_join, overall_status, sort_findings, splits

if TYPE_CHECKING:
    from assay.core.context import AuditContext

FINGERPRINT_VERSION = "assay-fingerprint-v1"
_MAX_EXACT = 2**53
_INT_KINDS = ("int", "datetime", "duration", "time")
_SORT_ORDER = ("float", "int", "datetime", "duration", "time", "str", "bool", "null")
_VERSIONS = ("python", "numpy", "scipy", "pandas", "polars", "pyarrow", "sklearn")


def _repr_strings(s: pl.Series) -> pl.Series:
    values = s.to_list()
    return pl.Series(s.name, [None if v is None else repr(v) for v in values], pl.String)


def canonical_column(s: pl.Series) -> tuple[str, pl.Series]:
    """The kind and canonical values of one column (see the module docstring).

    Examples
    --------
    >>> canonical_column(pl.Series([1.0, None, float("nan")]))[0]
    'int'
    >>> canonical_column(pl.Series([0.5, -0.0]))[1].to_list()
    [0.5, 0.0]
    """
    dt = s.dtype
    if dt == pl.Boolean:
        out, kind = s.cast(pl.UInt8), "bool"
    elif dt.is_integer():
        fits = dt != pl.UInt64 or (s.max() or 0) < 2**63
        out, kind = (s.cast(pl.Int64), "int") if fits else (s.cast(pl.String), "str")
    elif dt.is_float() or dt.is_decimal():
        x = s.cast(pl.Float64).fill_nan(None)  # NaN is missing
        x = pl.select(pl.when(x == 0).then(0.0).otherwise(x)).to_series()  # -0.0 is 0.0
        present = x.drop_nulls()
        whole = present.len() == 0 or bool(
            ((present == present.round(0)) & (present.abs() <= _MAX_EXACT)).all()
        )
        out, kind = (x.cast(pl.Int64), "int") if whole else (x, "float")
    elif dt == pl.Date or isinstance(dt, pl.Datetime):
        x = s.cast(pl.Datetime("us")) if dt == pl.Date else s
        if isinstance(dt, pl.Datetime) and dt.time_zone is not None:
            x = x.dt.convert_time_zone("UTC")
        out, kind = x.dt.epoch("us"), "datetime"
    elif isinstance(dt, pl.Duration):
        out, kind = s.dt.total_microseconds(), "duration"
    elif dt == pl.Time:
        out, kind = s.to_physical() // 1000, "time"
    elif dt in (pl.String, pl.Categorical, pl.Enum):
        out, kind = s.cast(pl.String), "str"
    else:
        out, kind = _repr_strings(s), "str"
    if out.null_count() == out.len() and out.len():
        return "null", pl.Series(s.name, [None] * out.len(), pl.Int64)
    return kind, out.alias(s.name)


def _value_bytes(kind: str, s: pl.Series) -> list[bytes | memoryview]:
    if kind == "str":
        filled = s.fill_null("")
        lengths = filled.str.len_bytes().cast(pl.UInt64).to_numpy().astype("<u8")
        text = filled.str.join("").item() if filled.len() else ""
        return [lengths.tobytes(), text.encode("utf-8")]
    if kind == "float":
        return [s.fill_null(0.0).to_numpy().astype("<f8").tobytes()]
    if kind == "bool":
        return [s.fill_null(0).to_numpy().astype(np.uint8).tobytes()]
    if kind in _INT_KINDS:
        return [s.fill_null(0).to_numpy().astype("<i8").tobytes()]
    return []  # null: the validity bytes say it all


def fingerprint(df: pl.DataFrame) -> str:
    """``"sha256:<hex>"`` of the canonical form of ``df`` (see the module docstring).

    Examples
    --------
    >>> a = pl.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> fingerprint(a) == fingerprint(a.reverse().select("y", "x"))
    True
    >>> fingerprint(a) == fingerprint(a.with_columns(pl.Series("x", [1, 3])))
    False
    """
    names = sorted(df.columns)
    kinds: dict[str, str] = {}
    columns = []
    for name in names:
        kinds[name], col = canonical_column(df.get_column(name))
        columns.append(col)
    canon = pl.DataFrame(columns)
    if canon.width and canon.height > 1:
        keys = sorted(names, key=lambda n: (_SORT_ORDER.index(kinds[n]), n))
        canon = canon.sort(keys, nulls_last=False)
    h = hashlib.sha256(f"{FINGERPRINT_VERSION}\n{df.height}\n{df.width}\n".encode())
    for name in names:
        s = canon.get_column(name)
        label = name.encode("utf-8")
        h.update(b"%d:%s:%s\n" % (len(label), label, kinds[name].encode()))
        h.update(s.is_not_null().cast(pl.UInt8).to_numpy().tobytes())
        for chunk in _value_bytes(kinds[name], s):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def same_content(
    ctx: AuditContext, a: str, b: str, fingerprints: Mapping[str, str]
) -> list[str] | None:
    """The columns on which splits ``a`` and ``b`` hold the same rows (order aside),
    or ``None`` when their content differs.

    When their columns differ (test has the target, current may not), the
    columns they share are compared, provided the features are among them.
    """
    fa, fb = ctx.frame(a), ctx.frame(b)
    if fa.height != fb.height:
        return None
    if set(fa.columns) == set(fb.columns):
        return fa.columns if fingerprints[a] == fingerprints[b] else None
    shared = [c for c in fa.columns if c in set(fb.columns)]
    if not shared or not set(ctx.schema.features) <= set(shared):
        return None
    return shared if fingerprint(fa.select(shared)) == fingerprint(fb.select(shared)) else None


_SAME = {
    ("train", "test"): (
        "fail",
        "The test set is the training set: both hold exactly the same rows (order aside), "
        "so every test score measures memory, not performance on new data.",
    ),
    ("test", "current"): (
        "warn",
        "The current (production) data is identical to the test data, so it says nothing "
        "about how production differs from testing.",
    ),
    ("train", "current"): (
        "warn",
        "The current (production) data is identical to the training data, so it says "
        "nothing about how production differs from training.",
    ),
}


_RECOMMENDATION = {
    "fail": "Audit the model on a test set that was held out from training, then run the "
    "audit again.",
    "warn": "Pass real production data as current, so that drift between testing and "
    "production can be measured.",
    "pass": "Keep report.json with the model: its fingerprints show whether a later audit "
    "ran on the same data.",
}


@register_check(
    "data.provenance",
    area="data",
    title="Data provenance",
    explanation=(
        "Records what this audit was run on: a content fingerprint of each table (the same "
        "rows give the same fingerprint whatever their order or storage type), shapes, column "
        "types, file hashes, library versions and the random seed. With them anyone can tell "
        "later whether a result came from the same data and reproduce it. It also catches a "
        "test set that is the training set under another name."
    ),
    standards=("MEASURE 2.1", "MAP 2.3"),
    severity="medium",
)
def provenance(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Fingerprint every split and record the audit's inputs and environment.

    Fails when test holds the same rows as train; warns when current holds the
    same rows as test or train. Otherwise passes: it records, it does not judge.
    """
    from assay.core.audit import library_versions

    names = splits(ctx)
    fingerprints = {s: fingerprint(ctx.frame(s)) for s in names}
    findings = []
    metrics: dict[str, float | int | None] = {"seed": ctx.settings.seed}
    for (a, b), (status, message) in _SAME.items():
        if a in fingerprints and b in fingerprints:
            columns = same_content(ctx, a, b, fingerprints)
            metrics[f"identical_{a}_{b}"] = int(columns is not None)
            if columns is not None:
                findings.append(Finding(status, message, columns=tuple(columns), split=b))
    for s in names:
        metrics[f"n_rows_{s}"] = ctx.frame(s).height
        metrics[f"n_columns_{s}"] = ctx.frame(s).width
    versions = {k: v for k, v in library_versions().items() if k in _VERSIONS}
    details = {
        "fingerprints": fingerprints,
        "canonical_form": FINGERPRINT_VERSION,
        "shapes": {s: {"rows": ctx.frame(s).height, "columns": ctx.frame(s).width} for s in names},
        "schema": ctx.schema.to_dict(),
        "files": {s: ctx.sources[s].to_dict() for s in names if s in ctx.sources},
        "versions": versions,
        "seed": ctx.settings.seed,
    }
    findings = sort_findings(findings)
    if findings:
        summary = findings[0].message
        recommendation = _RECOMMENDATION[findings[0].status]
    else:
        summary = (
            f"Recorded a content fingerprint of {and_join(names)} with their shapes, column "
            "types, library versions and the seed, so this audit can be traced and reproduced."
        )
        recommendation = _RECOMMENDATION["pass"]
    return Outcome(
        status=overall_status(findings),
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=recommendation,
        details=details,
    )
