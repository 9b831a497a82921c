"""``data.provenance``: content fingerprints, shapes, schema, versions and seed.

The fingerprint of a table depends on its content only: not on the order of
its rows or columns, not on its storage types (``3``, ``3.0`` and an int
column read as floats agree; categoricals read as strings), and not on how
it is cut into chunks or partitions. Version ``assay-fingerprint-v2`` is a
multiset hash of canonical rows, computed chunk by chunk and merged by
addition (:mod:`assay.engine._fingerprint` says exactly how); it replaced
version 1 (a SHA-256 over the rows sorted by value), which needed a sorted
copy of the whole table and could not be computed per partition. So a
shuffled copy has the same fingerprint; one changed value, one duplicated or
dropped row, or a renamed column gives another. :func:`canonical_column`
gives a column's kind as it is named in the fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from assay.core.details import Details
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status, worst_status
from assay.data._common import and_join, sort_findings, splits
from assay.engine._audit import LocalAuditEngine, audit_engine
from assay.engine._fingerprint import VERSION

if TYPE_CHECKING:
    from assay.core.context import AuditContext

FINGERPRINT_VERSION = VERSION
_MAX_EXACT = 2**53
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
        fits = dt != pl.UInt64 or cast(int, s.max() or 0) < 2**63  # a UInt64 max is an int
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


def fingerprint(df: pl.DataFrame) -> str:
    """``"sha256:<hex>"`` of the content of ``df`` (see the module docstring).

    Examples
    --------
    >>> a = pl.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> fingerprint(a) == fingerprint(a.reverse().select("y", "x"))
    True
    >>> fingerprint(a) == fingerprint(a.with_columns(pl.Series("x", [1, 3])))
    False
    """
    return LocalAuditEngine({"t": df}).fingerprint("t")


def same_content(
    ctx: AuditContext, a: str, b: str, fingerprints: Mapping[str, str]
) -> list[str] | None:
    """The columns on which splits ``a`` and ``b`` hold the same rows (order aside),
    or ``None`` when their content differs.

    When their columns differ (test has the target, current may not), the
    columns they share are compared, provided the features are among them.
    """
    engine = audit_engine(ctx)
    ca, cb = list(engine.dtypes(a)), list(engine.dtypes(b))
    if engine.rows(a) != engine.rows(b):
        return None
    if set(ca) == set(cb):
        return ca if fingerprints[a] == fingerprints[b] else None
    shared = [c for c in ca if c in set(cb)]
    if not shared or not set(ctx.schema.features) <= set(shared):
        return None
    same = engine.fingerprint(a, shared) == engine.fingerprint(b, shared)
    return shared if same else None


_SAME: dict[tuple[str, str], tuple[Status, str]] = {
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


@dataclass(frozen=True)
class ProvenanceParams:
    """``data.provenance`` has no parameters: it records where the data came from."""


@dataclass(frozen=True)
class ProvenanceDetails(Details):
    """What ``data.provenance`` keeps in its ``details`` (``report.json``)."""

    fingerprints: Mapping[str, Any]
    canonical_form: str
    shapes: Mapping[str, Any]
    schema: Mapping[str, Any]
    files: Mapping[str, Any]
    versions: Mapping[str, Any]
    seed: int


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
    params=ProvenanceParams,
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=ProvenanceDetails,
)
def provenance(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Fingerprint every split and record the audit's inputs and environment.

    Fails when test holds the same rows as train; warns when current holds the
    same rows as test or train. Otherwise passes: it records, it does not judge.
    Measured (:func:`measure_provenance`), judged (:func:`judge_provenance`), described.
    """
    m = measure_provenance(ctx)
    return _describe(m, judge_provenance(m))


@dataclass(frozen=True)
class Provenance:
    """What ``data.provenance`` measures: each split's fingerprint and shape, which
    pairs of splits hold the same rows (and on which columns), and the record of the
    audit's inputs and environment."""

    names: tuple[str, ...]
    fingerprints: Mapping[str, str]
    shapes: Mapping[str, Mapping[str, int]]
    identical: Mapping[tuple[str, str], tuple[str, ...] | None]
    """For each pair of ``_SAME`` whose splits are both given: the columns on which they
    hold the same rows, or ``None`` when their content differs."""
    seed: int
    schema: Mapping[str, Any]
    files: Mapping[str, Any]
    versions: Mapping[str, str]


def measure_provenance(ctx: AuditContext) -> Provenance:
    """Fingerprints, shapes and the identical pairs of splits, with the audit's record."""
    from assay.core.environment import library_versions

    names = splits(ctx)
    engine = audit_engine(ctx)
    fingerprints = {s: engine.fingerprint(s) for s in names}
    shapes = {s: {"rows": engine.rows(s), "columns": len(engine.dtypes(s))} for s in names}
    identical: dict[tuple[str, str], tuple[str, ...] | None] = {}
    for a, b in _SAME:
        if a in fingerprints and b in fingerprints:
            columns = same_content(ctx, a, b, fingerprints)
            identical[(a, b)] = None if columns is None else tuple(columns)
    return Provenance(
        names=tuple(names),
        fingerprints=fingerprints,
        shapes=shapes,
        identical=identical,
        seed=ctx.settings.seed,
        schema=ctx.schema.to_dict(),
        files={s: ctx.sources[s].to_dict() for s in names if s in ctx.sources},
        versions={k: v for k, v in library_versions().items() if k in _VERSIONS},
    )


def judge_pair(a: str, b: str, identical: bool) -> Status:
    """The verdict on two splits: ``fail`` when test holds the training rows, ``warn``
    when current holds the test or the training rows, else ``pass``."""
    return _SAME[(a, b)][0] if identical else "pass"


def judge_provenance(m: Provenance) -> Status:
    """The worst verdict over the pairs of splits compared (:func:`judge_pair`)."""
    return worst_status(
        [judge_pair(a, b, columns is not None) for (a, b), columns in m.identical.items()]
    )


def _describe(m: Provenance, status: Status) -> Outcome:
    """Findings (one per identical pair), summary, metrics and the recorded details."""
    findings = []
    metrics: dict[str, float | int | None] = {"seed": m.seed}
    for (a, b), columns in m.identical.items():
        metrics[f"identical_{a}_{b}"] = int(columns is not None)
        if columns is not None:
            message = _SAME[(a, b)][1]
            findings.append(Finding(judge_pair(a, b, True), message, columns=columns, split=b))
    for s in m.names:
        metrics[f"n_rows_{s}"] = m.shapes[s]["rows"]
        metrics[f"n_columns_{s}"] = m.shapes[s]["columns"]
    details = {
        "fingerprints": dict(m.fingerprints),
        "canonical_form": FINGERPRINT_VERSION,
        "shapes": dict(m.shapes),
        "schema": m.schema,
        "files": dict(m.files),
        "versions": dict(m.versions),
        "seed": m.seed,
    }
    findings = sort_findings(findings)
    if findings:
        summary = findings[0].message
        recommendation = _RECOMMENDATION[findings[0].status]
    else:
        summary = (
            f"Recorded a content fingerprint of {and_join(list(m.names))} with their shapes, "
            "column types, library versions and the seed, so this audit can be traced and "
            "reproduced."
        )
        recommendation = _RECOMMENDATION["pass"]
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=recommendation,
        details=details,
    )
