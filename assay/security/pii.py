"""``security.pii``: personal data in the data's values and column names.

Every text-like column of every split (strings, categories, and integers long
enough to be phone or card numbers) is scanned with Presidio's analyzer,
offline and without any language model: pattern recognizers whose matches
are validated by a checksum or a strict parser (see
:mod:`assay.security._pii_engine`). Column names are scanned too, and read
for hints: a column called ``dob`` or ``last_name`` holds personal data even
though no pattern can prove it.

Distinct values are scanned once each. Per column and kind of data, at most
``max_values`` distinct candidate values are analyzed (chosen by a seeded hash,
so the same values whatever the row order); beyond that the share of rows is
an estimate, and the result says so. Findings show a masked example, never a
raw value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status, worst_status
from assay.data._common import and_join, pct, sort_findings, splits
from assay.details.security import NameHint, PiiColumn, PiiDetails  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

# Column-name hints for personal data that no pattern can confirm. Each maps a
# set of name words (all must appear) to (kind, label, status of the finding).
_NAME_HINTS: tuple[tuple[frozenset[str], str, str, Status], ...] = tuple(
    (frozenset(words.split()), kind, label, cast(Status, status))  # "warn" or "fail" below
    for words, kind, label, status in (
        # Kinds the value scan checks: the name is only context for it.
        ("email", "EMAIL_ADDRESS", "an e-mail address", "warn"),
        ("mail", "EMAIL_ADDRESS", "an e-mail address", "warn"),
        ("phone", "PHONE_NUMBER", "a phone number", "warn"),
        ("mobile", "PHONE_NUMBER", "a phone number", "warn"),
        ("ssn", "US_SSN", "a social security number", "warn"),
        ("ip", "IP_ADDRESS", "an IP address", "warn"),
        ("mac address", "MAC_ADDRESS", "a MAC address", "warn"),
        ("iban", "IBAN_CODE", "a bank account number", "warn"),
        ("card number", "CREDIT_CARD", "a card number", "warn"),
        ("credit card", "CREDIT_CARD", "a card number", "warn"),
        # Kinds no pattern can confirm: the name is the evidence.
        ("dob", "DATE_OF_BIRTH", "a date of birth", "warn"),
        ("birthday", "DATE_OF_BIRTH", "a date of birth", "warn"),
        ("birthdate", "DATE_OF_BIRTH", "a date of birth", "warn"),
        ("date birth", "DATE_OF_BIRTH", "a date of birth", "warn"),
        ("birth date", "DATE_OF_BIRTH", "a date of birth", "warn"),
        ("first name", "PERSON", "a person's name", "warn"),
        ("firstname", "PERSON", "a person's name", "warn"),
        ("last name", "PERSON", "a person's name", "warn"),
        ("lastname", "PERSON", "a person's name", "warn"),
        ("surname", "PERSON", "a person's name", "warn"),
        ("full name", "PERSON", "a person's name", "warn"),
        ("fullname", "PERSON", "a person's name", "warn"),
        ("given name", "PERSON", "a person's name", "warn"),
        ("family name", "PERSON", "a person's name", "warn"),
        ("customer name", "PERSON", "a person's name", "warn"),
        ("patient name", "PERSON", "a person's name", "warn"),
        ("address", "ADDRESS", "a postal address", "warn"),
        ("street", "ADDRESS", "a postal address", "warn"),
        ("passport", "ID_NUMBER", "an identity document number", "warn"),
        ("national id", "ID_NUMBER", "a national identity number", "warn"),
        ("driver license", "ID_NUMBER", "a driving licence number", "warn"),
        ("driving licence", "ID_NUMBER", "a driving licence number", "warn"),
        ("tax id", "ID_NUMBER", "a tax identification number", "warn"),
        ("zip", "QUASI_IDENTIFIER", "a postal code (a quasi-identifier)", "pass"),
        ("zipcode", "QUASI_IDENTIFIER", "a postal code (a quasi-identifier)", "pass"),
        ("postcode", "QUASI_IDENTIFIER", "a postal code (a quasi-identifier)", "pass"),
        ("postal", "QUASI_IDENTIFIER", "a postal code (a quasi-identifier)", "pass"),
        ("race", "SENSITIVE", "a sensitive attribute (race)", "pass"),
        ("ethnicity", "SENSITIVE", "a sensitive attribute (ethnicity)", "pass"),
        ("religion", "SENSITIVE", "a sensitive attribute (religion)", "pass"),
        ("sex", "SENSITIVE", "a sensitive attribute (sex)", "pass"),
        ("gender", "SENSITIVE", "a sensitive attribute (gender)", "pass"),
        ("health", "SENSITIVE", "a sensitive attribute (health)", "pass"),
        ("diagnosis", "SENSITIVE", "a sensitive attribute (health)", "pass"),
        ("disability", "SENSITIVE", "a sensitive attribute (disability)", "pass"),
        ("orientation", "SENSITIVE", "a sensitive attribute (sexual orientation)", "pass"),
    )
)
_SCANNED_KINDS = {
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "IBAN_CODE",
    "CREDIT_CARD",
}  # the value scan speaks for these


def name_hint(column: str) -> tuple[str, str, Status] | None:
    """(kind, label, status) when a column's name suggests personal data.

    Examples
    --------
    >>> name_hint("customer_DOB")[0]
    'DATE_OF_BIRTH'
    >>> name_hint("product_name") is None
    True
    """
    from assay.security._pii_engine import context_words

    words = set(context_words(column))
    if column.lower().strip() == "name":
        return "PERSON", "a person's name", "warn"
    for need, kind, label, status in _NAME_HINTS:
        if need <= words:
            return kind, label, status
    return None


def _value_counts(frames: dict[str, pl.DataFrame], column: str) -> tuple[pl.Series, np.ndarray]:
    """Sorted distinct values of ``column`` over all splits and their row counts per split."""
    from assay.security._pii_engine import as_text

    parts = []
    for i, df in enumerate(frames.values()):
        s = as_text(df.get_column(column)).drop_nulls()
        parts.append(pl.DataFrame({"v": s, "split": pl.Series([i] * s.len(), dtype=pl.Int32)}))
    both = pl.concat(parts) if parts else pl.DataFrame({"v": [], "split": []})
    counts = both.group_by("v", "split").len().sort("v")
    uniq = counts.get_column("v").unique().sort()
    wide = np.zeros((uniq.len(), len(frames)), dtype=np.int64)
    pos = {v: i for i, v in enumerate(uniq.to_list())}
    for v, sp, n in counts.iter_rows():
        wide[pos[v], sp] = n
    return uniq, wide


def scan_column(
    frames: dict[str, pl.DataFrame], column: str, *, max_values: int | None, seed: int
) -> dict[str, Any]:
    """Scan one column over the given splits; per kind of data, rows and shares per split.

    Returns a dict with ``entities`` ({entity: {rows: {split: n}, share: {split: s},
    example, distinct_values, estimated}}), ``dismissed`` ({entity: why}), the
    number of distinct values analyzed, whether candidates were sampled, and the
    raw ``scan`` of the sorted distinct ``values`` (for :mod:`assay.security.anonymize`).
    """
    from assay.security._pii_engine import KINDS, mask, scan_values

    names = list(frames)
    uniq, counts = _value_counts(frames, column)
    scan = scan_values(uniq, name=column, max_values=max_values, seed=seed)
    totals = np.array([frames[s].height for s in names], dtype=float)
    texts = uniq.to_list()
    hashes = uniq.hash(seed=seed).to_numpy() if uniq.len() else np.zeros(0)
    entities: dict[str, Any] = {}
    for entity in KINDS:
        flagged = np.array(
            sorted(i for i, sp in scan.spans.items() if any(s.entity == entity for s in sp)),
            dtype=np.int64,
        )
        if not len(flagged):
            continue
        cand, scanned = scan.candidates[entity], scan.scanned[entity]
        estimated = len(scanned) < len(cand)
        if estimated:
            rate = counts[flagged].sum() / max(counts[scanned].sum(), 1)
            rows = counts[cand].sum(axis=0) * rate
        else:
            rows = counts[flagged].sum(axis=0).astype(float)
        # The example: the most frequent flagged value (ties: smallest hash), masked.
        best = flagged[np.lexsort((hashes[flagged], -counts[flagged].sum(axis=1)))][0]
        span = next(s for s in scan.spans[int(best)] if s.entity == entity)
        entities[entity] = {
            "rows": {s: round(float(r), 1) for s, r in zip(names, rows, strict=True)},
            "share": {
                s: float(r / t) if t else 0.0 for s, r, t in zip(names, rows, totals, strict=True)
            },
            "example": mask(texts[best][span.start : span.end]),
            "distinct_values": len(flagged),
            "estimated": estimated,
        }
    n_scanned = len(set().union(*(set(v.tolist()) for v in scan.scanned.values())))
    return {
        "entities": entities,
        "dismissed": dict(scan.dismissed),
        "distinct_values": uniq.len(),
        "values_analyzed": n_scanned,
        "sampled": any(len(scan.scanned[e]) < len(scan.candidates[e]) for e in scan.scanned),
        "scan": scan,  # the raw scan and its values, for anonymize (not for reports)
        "values": uniq,
    }


def _describe_entities(entities: Mapping[str, Any], names: list[str]) -> tuple[str, float]:
    """'e-mail addresses (100% of train rows, e.g. j***@...)' and the largest share."""
    from assay.security._pii_engine import KINDS

    parts = []
    worst = 0.0
    for entity, info in sorted(entities.items(), key=lambda kv: -max(kv[1]["share"].values())):
        split = max(names, key=lambda s: (info["share"][s], -names.index(s)))
        share = info["share"][split]
        worst = max(worst, share)
        approx = "about " if info["estimated"] else ""
        parts.append(
            f"{KINDS[entity].plural} ({approx}{pct(share)} of {split} rows, e.g. {info['example']})"
        )
    return and_join(parts), worst


def _column_status(entities: Mapping[str, Any], th: Mapping[str, Any]) -> Status:
    from assay.security._pii_engine import KINDS

    for entity, info in entities.items():
        if KINDS[entity].direct and max(info["share"].values()) >= th["fail_share"]:
            return "fail"
    return "warn"


_RECOMMENDATION = {
    "fail": "Remove or de-identify the named columns before the data is used for training "
    "or shared: drop them if the model does not need them, or run `assay anonymize` "
    "(mask, replace, hash with a salt to keep joins, or redact). Record the lawful basis "
    "for any personal data you keep in the datasheet.",
    "warn": "Check the named columns: de-identify the personal data found (`assay anonymize`) "
    "or drop the columns, and confirm that name-hinted columns are needed and lawfully held.",
    "pass": "Nothing to fix. Pattern scanning cannot see names or free-form addresses; "
    "review free-text columns by hand if they may hold them.",
}


@dataclass(frozen=True)
class PiiParams:
    """Parameters of ``security.pii``."""

    fail_share: float = param(
        0.5,
        "Share of a column's values holding direct identifiers from which it fails.",
        ge=0,
        le=1,
    )
    max_values: int = param(500, "Distinct values scanned per text column.", ge=1)


@register_check(
    "security.pii",
    area="security",
    title="Personal data (PII)",
    explanation=(
        "Scans text columns and column names for personal data: e-mail addresses, phone "
        "numbers, card numbers, bank accounts (IBAN), social security numbers, IP and MAC "
        "addresses, crypto wallets, with Microsoft Presidio's pattern recognizers and "
        "their checksums; names like 'dob' or 'last_name' count too. Personal data in "
        "training data is a privacy and legal risk: models can memorise and leak it."
    ),
    standards=("MEASURE 2.10", "GOVERN 1.1"),
    severity="high",
    params=PiiParams,
    extras=("pii",),
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=PiiDetails,
)
def pii(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Find personal data per column; a masked example per kind, never the raw value.

    A column fails when a kind of data that identifies a person on its own
    (e-mail, phone, card, IBAN, social security number, wallet) fills at
    least ``fail_share`` of a split's rows; any other finding in values, and a
    column named like a direct identifier, warns. Columns named like quasi-
    identifiers or sensitive attributes are listed without a warning. Per
    column and kind, at most ``max_values`` distinct candidate values are analyzed.
    Measured (:func:`measure_pii`), judged (:func:`judge_pii`), described.
    """
    m = measure_pii(ctx, th)
    return _describe(m, judge_pii(m, th), th)


@dataclass(frozen=True)
class ColumnScan:
    """One text column's values scanned over the splits that hold it."""

    column: str
    splits: tuple[str, ...]
    entities: Mapping[str, Mapping[str, Any]]
    """Per kind of data found: ``rows`` and ``share`` per split, a masked ``example``,
    ``distinct_values`` and whether the counts are ``estimated`` (see :func:`scan_column`)."""
    direct: Mapping[str, bool]
    """Per kind found: whether it identifies a person on its own."""
    values_analyzed: int
    sampled: bool
    dismissed: Mapping[str, str]

    def max_share(self, entity: str) -> float:
        return max(self.entities[entity]["share"].values())


@dataclass(frozen=True)
class PiiMeasured:
    """What ``security.pii`` measures: the values of every text column, the hints in
    column names, and the column names that hold personal data themselves."""

    splits: tuple[str, ...]
    scanned: tuple[str, ...]
    """The text columns whose values were scanned."""
    all_columns: tuple[str, ...]
    columns: tuple[ColumnScan, ...]
    hints: tuple[tuple[str, str, str, Status], ...]
    """(column, kind, label, status) of each column named like personal data."""
    names_with_pii: tuple[tuple[str, tuple[str, ...]], ...]
    """(masked name, kinds found) of each column name that holds personal data."""
    max_values: int

    @property
    def found(self) -> tuple[ColumnScan, ...]:
        """The columns whose values hold personal data."""
        return tuple(c for c in self.columns if c.entities)

    @property
    def named(self) -> tuple[tuple[str, str, str, Status], ...]:
        """The name hints reported: values unscanned for that kind, and none found."""
        found = {c.column for c in self.found}
        return tuple(h for h in self.hints if h[0] not in found and h[1] not in _SCANNED_KINDS)


def measure_pii(ctx: AuditContext, th: Mapping[str, Any]) -> PiiMeasured:
    """Scan the values of every text column (the target and predictions aside) and the
    names of all columns."""
    from assay.security import _pii_engine as eng

    split_names = splits(ctx)
    frames = {s: ctx.frame(s) for s in split_names}
    # The target and prediction columns hold labels and scores, not personal data (and
    # scanning a string target but not the same labels as integers would make the
    # result depend on how the labels are spelled).
    skip = {ctx.target, *ctx.schema.prediction_columns}
    columns: list[str] = []
    for df in frames.values():
        columns += [c for c in eng.text_columns(df) if c not in columns and c not in skip]
    all_columns = list(dict.fromkeys(c for df in frames.values() for c in df.columns))
    max_values, seed = int(th["max_values"]), ctx.settings.seed
    scans = []
    for col in columns:
        present = {s: df for s, df in frames.items() if col in df.columns}
        res = scan_column(present, col, max_values=max_values, seed=seed)
        ents = res["entities"]
        scans.append(
            ColumnScan(
                column=col,
                splits=tuple(present),
                entities=ents,
                direct={e: eng.KINDS[e].direct for e in ents},
                values_analyzed=res["values_analyzed"],
                sampled=res["sampled"],
                dismissed=res["dismissed"],
            )
        )
    hints = []
    for col in all_columns:
        hint = name_hint(col)
        if hint is not None:
            hints.append((col, *hint))
    name_scan = eng.scan_values(pl.Series("names", all_columns, dtype=pl.String), seed=seed)
    names_with_pii = tuple(
        (eng.mask(all_columns[i]), tuple(s.entity for s in spans))
        for i, spans in sorted(name_scan.spans.items())
    )
    return PiiMeasured(
        splits=tuple(split_names),
        scanned=tuple(columns),
        all_columns=tuple(all_columns),
        columns=tuple(scans),
        hints=tuple(hints),
        names_with_pii=names_with_pii,
        max_values=max_values,
    )


def judge_column(c: ColumnScan, th: Mapping[str, Any]) -> Status:
    """A column whose values hold personal data: ``fail`` when a kind that identifies a
    person on its own fills at least ``fail_share`` of a split's rows, else ``warn``."""
    for entity in c.entities:
        if c.direct[entity] and c.max_share(entity) >= th["fail_share"]:
            return "fail"
    return "warn"


def judge_pii(m: PiiMeasured, th: Mapping[str, Any]) -> Status:
    """The worst of: each column with personal data in its values (:func:`judge_column`),
    each name hint reported (its own status: ``warn`` for a direct identifier, ``pass``
    for a quasi-identifier or a sensitive attribute), and ``warn`` for a column name that
    holds personal data itself."""
    statuses = [judge_column(c, th) for c in m.found]
    statuses += [status for _, _, _, status in m.named]
    statuses += ["warn" for _ in m.names_with_pii]
    return worst_status(statuses)


def _describe(m: PiiMeasured, status: Status, th: Mapping[str, Any]) -> Outcome:
    """Findings (columns, name hints, names), summary, metrics, chart and details."""
    from assay.security import _pii_engine as eng

    findings, table = _content_findings(m, th)
    findings += _name_findings(m)
    findings = sort_findings(findings)
    sampled = [c.column for c in m.columns if c.sampled]
    sample_note = (
        f"Up to {m.max_values:,} distinct candidate values per column and kind of data were "
        "analyzed; "
        + (
            f"in {', '.join(sampled[:5])} there were more, so shares there are estimates."
            if sampled
            else "every candidate value was analyzed."
        )
    )
    charts, shares = _chart(table, findings, th)
    metrics = {
        "columns_scanned": len(m.scanned),
        "columns_with_pii": len({r["column"] for r in table}),
        "columns_named_like_pii": sum(
            1 for h in m.hints if h[1] not in ("SENSITIVE", "QUASI_IDENTIFIER")
        ),
        "max_pii_share": max(shares.values(), default=0.0),
        "distinct_values_analyzed": sum(c.values_analyzed for c in m.columns),
    }
    details = {
        "engine": "Presidio AnalyzerEngine with the no-op NLP engine (no language model); "
        "pattern recognizers validated by checksum or parser",
        "entities": [k.entity for k in eng.ENTITY_KINDS],
        "sample": sample_note,
        "columns": table,
        "name_hints": [{"column": c, "kind": k, "label": lb} for c, k, lb, _ in m.hints],
        "look_alikes_dismissed": [
            {"column": c.column, "entity": e, "why": w}
            for c in m.columns
            for e, w in c.dismissed.items()
        ],
        "charts": charts,
    }
    summary = _summary(findings, len(m.scanned), len(m.all_columns), list(m.splits))
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=_RECOMMENDATION[status],
        details=details,
    )


def _content_findings(
    m: PiiMeasured, th: Mapping[str, Any]
) -> tuple[list[Finding], list[dict[str, Any]]]:
    """A finding per column whose values hold personal data, and the per-kind table."""
    from assay.security import _pii_engine as eng

    findings: list[Finding] = []
    table: list[dict[str, Any]] = []
    for c in m.found:
        ents = c.entities
        words, worst = _describe_entities(ents, list(c.splits))
        findings.append(
            Finding(
                judge_column(c, th),
                f"Column '{c.column}' holds {words}.",
                column=c.column,
                metrics={"pii_share": worst, "kinds": len(ents)},
            )
        )
        for entity, info in ents.items():
            table.append(
                {
                    "column": c.column,
                    "entity": entity,
                    "label": eng.KINDS[entity].label,
                    "direct": eng.KINDS[entity].direct,
                    "example": info["example"],
                    "max_share": c.max_share(entity),
                    "share": info["share"],
                    "estimated": info["estimated"],
                    "distinct_values": info["distinct_values"],
                }
            )
    return findings, table


def _name_findings(m: PiiMeasured) -> list[Finding]:
    """Columns named like personal data (their values unscanned or clean), and column
    names that hold personal data themselves."""
    from assay.security import _pii_engine as eng

    findings: list[Finding] = []
    for col, _, label, status in m.named:
        if status == "pass":
            msg = f"Column '{col}' is named like {label}; it is listed for the datasheet."
        else:
            msg = (
                f"Column '{col}' is named like {label}, which is personal data; "
                "its values cannot be checked by pattern."
            )
        findings.append(Finding(status, msg, column=col, metrics={}))
    for masked, entities in m.names_with_pii:
        kinds = and_join(sorted({eng.KINDS[e].plural for e in entities}))
        findings.append(
            Finding(
                "warn",
                f"A column name itself holds personal data ({kinds}): '{masked}'.",
                column=masked,
                group="column names",
            )
        )
    return findings


def _chart(
    table: list[dict[str, Any]], findings: list[Finding], th: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The bar chart of each column's largest share of rows with personal data, and
    those shares."""
    charts = []
    shares: dict[str, float] = {}
    for r in table:
        shares[r["column"]] = max(shares.get(r["column"], 0.0), r["max_share"])
    if shares:
        items = [
            Bar(c, v, next((f.status for f in findings if f.column == c), "warn"))
            for c, v in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        charts.append(
            BarChart(
                title="Rows holding personal data, by column",
                x_label="share of rows (the split where it is highest)",
                unit="share",
                items=items[:25],
                threshold=th["fail_share"],
            ).to_dict()
        )
    return charts, shares


def _summary(findings: list[Finding], n_text: int, n_columns: int, split_names: list[str]) -> str:
    """The worst column (fails first, then by share) and how many more, or the all-clear."""
    problems = [f for f in findings if f.status != "pass"]
    ranked = sorted(
        problems,
        key=lambda f: (f.status != "fail", -float(f.metrics.get("pii_share", 0) or 0)),
    )
    scanned_words = (
        f"{n_text:,} text column(s) and {n_columns:,} column names in {and_join(split_names)}"
    )
    if ranked:
        summary = ranked[0].message
        if len(ranked) > 1:
            n = len(ranked) - 1
            summary = summary.rstrip(".") + f"; {n} more column{'s' if n > 1 else ''} flagged."
    else:
        summary = f"No personal data was found in {scanned_words}."
    return summary
