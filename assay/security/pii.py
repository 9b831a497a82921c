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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.details import Details, Record
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.data._common import and_join, overall_status, pct, sort_findings, splits

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


@dataclass(frozen=True)
class PiiColumn(Record):
    """A column found to hold personal data (read by the datasheet)."""

    column: str
    label: str | None
    entity: str | None
    direct: bool | None
    estimated: bool | None
    distinct_values: int | None
    example: str | None
    max_share: float | None
    share: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class NameHint(Record):
    """A column whose name suggests personal or sensitive data (``kind`` is an entity,
    ``SENSITIVE`` or ``QUASI_IDENTIFIER``)."""

    column: str
    kind: str
    label: str | None


@dataclass(frozen=True)
class PiiDetails(Details):
    """What ``security.pii`` keeps in its ``details`` (``report.json``); the datasheet reads
    ``columns``, ``name_hints`` and ``sample``."""

    engine: str
    entities: tuple[str, ...]
    sample: str | None
    columns: tuple[PiiColumn, ...]
    name_hints: tuple[NameHint, ...]
    look_alikes_dismissed: tuple[Mapping[str, Any], ...]


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
    """
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
    max_values = int(th["max_values"])
    seed = ctx.settings.seed

    findings, table, values_analyzed, sampled_columns, dismissed = _scan_contents(
        frames, columns, max_values, seed, th
    )
    content_cols = {r["column"] for r in table}

    name_findings, hinted = _name_findings(all_columns, content_cols, seed)
    findings += name_findings

    findings = sort_findings(findings)
    status = overall_status(findings)
    summary = _summary(findings, len(columns), len(all_columns), split_names)
    sample_note = (
        f"Up to {max_values:,} distinct candidate values per column and kind of data were "
        "analyzed; "
        + (
            f"in {', '.join(sampled_columns[:5])} there were more, so shares there are estimates."
            if sampled_columns
            else "every candidate value was analyzed."
        )
    )
    charts, shares = _chart(table, findings, th)
    metrics = {
        "columns_scanned": len(columns),
        "columns_with_pii": len(content_cols),
        "columns_named_like_pii": sum(
            1 for h in hinted if h["kind"] not in ("SENSITIVE", "QUASI_IDENTIFIER")
        ),
        "max_pii_share": max(shares.values(), default=0.0),
        "distinct_values_analyzed": values_analyzed,
    }
    details = {
        "engine": "Presidio AnalyzerEngine with the no-op NLP engine (no language model); "
        "pattern recognizers validated by checksum or parser",
        "entities": [k.entity for k in eng.ENTITY_KINDS],
        "sample": sample_note,
        "columns": table,
        "name_hints": hinted,
        "look_alikes_dismissed": dismissed,
        "charts": charts,
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=_RECOMMENDATION[status],
        details=details,
    )


def _scan_contents(
    frames: Mapping[str, pl.DataFrame],
    columns: list[str],
    max_values: int,
    seed: int,
    th: Mapping[str, Any],
) -> tuple[list[Finding], list[dict[str, Any]], int, list[str], list[dict[str, str]]]:
    """The values of each text column scanned and judged: findings, the per-kind table,
    distinct values analyzed, columns sampled and look-alikes dismissed."""
    from assay.security import _pii_engine as eng

    findings: list[Finding] = []
    table: list[dict[str, Any]] = []
    values_analyzed = 0
    sampled_columns: list[str] = []
    dismissed: list[dict[str, str]] = []
    for col in columns:
        present = {s: df for s, df in frames.items() if col in df.columns}
        res = scan_column(present, col, max_values=max_values, seed=seed)
        values_analyzed += res["values_analyzed"]
        if res["sampled"]:
            sampled_columns.append(col)
        dismissed += [{"column": col, "entity": e, "why": w} for e, w in res["dismissed"].items()]
        ents = res["entities"]
        if not ents:
            continue
        names = list(present)
        words, worst = _describe_entities(ents, names)
        status = _column_status(ents, th)
        findings.append(
            Finding(
                status,
                f"Column '{col}' holds {words}.",
                column=col,
                metrics={"pii_share": worst, "kinds": len(ents)},
            )
        )
        for entity, info in ents.items():
            table.append(
                {
                    "column": col,
                    "entity": entity,
                    "label": eng.KINDS[entity].label,
                    "direct": eng.KINDS[entity].direct,
                    "example": info["example"],
                    "max_share": max(info["share"].values()),
                    "share": info["share"],
                    "estimated": info["estimated"],
                    "distinct_values": info["distinct_values"],
                }
            )
    return findings, table, values_analyzed, sampled_columns, dismissed


def _name_findings(
    all_columns: list[str], content_cols: set[str], seed: int
) -> tuple[list[Finding], list[dict[str, str]]]:
    """Columns named like personal data (their values unscanned or clean), and column
    names that hold personal data themselves; with the name hints."""
    from assay.security import _pii_engine as eng

    findings: list[Finding] = []
    hinted: list[dict[str, str]] = []
    for col in all_columns:
        hint = name_hint(col)
        if hint is None:
            continue
        kind, label, status = hint
        hinted.append({"column": col, "kind": kind, "label": label})
        if col in content_cols or kind in _SCANNED_KINDS:
            continue  # the values speak for themselves (found, or scanned and clean)
        if status == "pass":
            msg = f"Column '{col}' is named like {label}; it is listed for the datasheet."
        else:
            msg = (
                f"Column '{col}' is named like {label}, which is personal data; "
                "its values cannot be checked by pattern."
            )
        findings.append(Finding(status, msg, column=col, metrics={}))

    name_scan = eng.scan_values(pl.Series("names", all_columns, dtype=pl.String), seed=seed)
    for i, spans in sorted(name_scan.spans.items()):
        masked = eng.mask(all_columns[i])
        kinds = and_join(sorted({eng.KINDS[s.entity].plural for s in spans}))
        findings.append(
            Finding(
                "warn",
                f"A column name itself holds personal data ({kinds}): '{masked}'.",
                column=masked,
                group="column names",
            )
        )

    return findings, hinted


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
