"""The datasheet: ``datasheet.md`` and the "Datasheet" section of the HTML report.

In the spirit of *Datasheets for Datasets* (Gebru et al., 2021): the
**composition** of the data is filled in from the report (splits, rows,
columns and their types, missing values, class balance, sensitive attributes
and their group sizes, personal data found, known issues from the checks);
the questions only the dataset's owner can answer — motivation, collection,
consent, preprocessing, intended uses, distribution, maintenance — are left
as a checklist.

Like every renderer, it reads the report dict only (``report.json``) and
computes nothing: every number shown is a field of the report. The details of
``data.integrity``, ``data.representativeness`` and ``security.pii`` are read
as the types those checks declare (:mod:`assay.core.details`), so a renamed
field fails the type check rather than emptying a table. Missing or odd fields
are shown as "—" or left out; they never raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.render._escape import html_text, markdown_code, markdown_text
from assay.render._format import (
    DASH,
    as_mapping,
    as_str_list,
    clean_text,
    details_of,
    fmt_number,
    fmt_percent,
    short_hash,
)
from assay.render._report import Report, read_report

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.result import CheckResult
    from assay.details.data import ClassShare, GroupShare
    from assay.details.security import NameHint, PiiColumn

__all__ = ["datasheet_data", "datasheet_section", "render_datasheet"]

_SPLITS = {"train": "Training data", "test": "Test data", "current": "Current (production) data"}
_MAX_COLUMNS = 200
_MAX_GROUPS = 60
_DATASET_CHECKS = ("security.pii", "security.poisoning")

CHECKLIST: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Motivation",
        (
            "For what purpose was the dataset created, and what gap does it fill?",
            "Who created it, on behalf of which organisation, and who funded it?",
        ),
    ),
    (
        "Collection process",
        (
            "How was each row collected (forms, sensors, logs, purchases, scraping), "
            "and over what time frame?",
            "Is it a sample of a larger population? How were rows selected, and whom does "
            "that leave out?",
            "Who took part in collecting or labelling it, and how were they paid?",
        ),
    ),
    (
        "Consent and personal data",
        (
            "Were the people the data is about told about the collection, and did they "
            "consent? Can they withdraw, and how?",
            "What is the lawful basis for holding each column of personal data listed "
            "above, and for how long is it kept?",
            "Has a data-protection impact assessment been done where one is required?",
        ),
    ),
    (
        "Preprocessing, cleaning and labelling",
        (
            "What was done to the raw data (filtering, de-duplication, imputation, "
            "anonymization), and is the raw data kept?",
            "Who assigned the labels, following which instructions, and how was their "
            "quality checked?",
        ),
    ),
    (
        "Uses",
        (
            "What is the dataset intended to be used for, and by whom?",
            "What should it not be used for (decisions it does not support, populations "
            "it does not cover)?",
            "Could its composition lead to unfair treatment of a group when used?",
        ),
    ),
    (
        "Distribution and maintenance",
        (
            "Who may access it, under which licence or terms?",
            "Who maintains it, how often is it updated, and how are errors reported and corrected?",
        ),
    ),
)


# -- extraction (fields of the report, nothing computed) ----------------------------
def _check(audit: Report, check_id: str) -> CheckResult | None:
    return next((c for c in audit.checks if c.id == check_id), None)


def _fingerprint(split: Mapping[str, Any]) -> str | None:
    fp = split.get("fingerprint")
    if isinstance(fp, Mapping):
        fp = next(
            (
                fp[k]
                for k in ("sha256", "content_sha256", "hash", "digest")
                if isinstance(fp.get(k), str)
            ),
            None,
        )
    if isinstance(fp, str) and fp:
        return fp
    digest = split.get("file_sha256")
    return digest if isinstance(digest, str) and digest else None


def _splits(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    splits = []
    for key in ("train", "test", "current"):
        split = inputs.get(key)
        if not isinstance(split, Mapping):
            continue
        splits.append(
            {
                "name": key,
                "label": _SPLITS[key],
                "source": split.get("path") or split.get("kind"),
                "rows": split.get("rows"),
                "columns": split.get("columns"),
                "fingerprint": _fingerprint(split),
            }
        )
    return splits


def _roles(schema: Mapping[str, Any]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for c in as_str_list(schema.get("features")):
        roles[c] = "feature"
    for c in as_str_list(schema.get("ignored")):
        roles[c] = "ignored"
    for c in as_str_list(schema.get("prediction_columns")):
        roles[c] = "prediction"
    if schema.get("target") is not None:
        is_label = schema.get("task") == "anomaly"  # known anomaly labels, not a target
        roles[clean_text(schema.get("target"))] = "known anomaly label" if is_label else "target"
    return roles


def _columns(
    audit: Report, schema: Mapping[str, Any], sensitive: list[str]
) -> list[dict[str, Any]]:
    """One entry per column of the schema: type, role and missing share per split (from
    ``data.integrity``'s typed details)."""
    from assay.details.data import IntegrityDetails

    missing: dict[str, dict[str, Any]] = {}
    for row in details_of(_check(audit, "data.integrity"), IntegrityDetails).columns:
        missing.setdefault(row.column, {})[row.split] = row.missing_share
    roles = _roles(schema)
    columns = []
    for name, ctype in as_mapping(schema.get("types")).items():
        role = roles.get(name, "other")
        if name in sensitive:
            role += ", sensitive"
        columns.append(
            {"name": name, "type": ctype, "role": role, "missing": missing.get(name, {})}
        )
    return columns


def _issues(audit: Report) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "title": c.title or c.id, "status": c.status, "summary": c.summary}
        for c in audit.checks
        if (c.id.startswith("data.") or c.id in _DATASET_CHECKS)
        and c.status in ("fail", "warn", "error")
    ]


def _personal(audit: Report) -> dict[str, Any]:
    """What ``security.pii`` found (its typed details), as the datasheet lists it."""
    from assay.details.security import PiiDetails

    pii = _check(audit, "security.pii")
    details = details_of(pii, PiiDetails)
    hints = details.name_hints
    return {
        "sensitive_named": [h.column for h in hints if h.kind == "SENSITIVE"],
        "pii_status": None if pii is None else pii.status,
        "pii_summary": None if pii is None else pii.summary,
        "pii_columns": list(details.columns),
        "pii_named": [h for h in hints if h.kind not in ("SENSITIVE", "QUASI_IDENTIFIER")],
        "quasi_identifiers": [h.column for h in hints if h.kind == "QUASI_IDENTIFIER"],
        "pii_sample": details.sample,
    }


def datasheet_data(report: AuditResult | Report | Mapping[str, Any]) -> dict[str, Any]:
    """The datasheet's content, picked from the report (typed, or a dict read once by
    :func:`~assay.render._report.read_report`; nothing is computed); the checks' details
    are read as their declared types (:mod:`assay.core.details`)."""
    from assay.details.data import RepresentativenessDetails

    audit = read_report(report)
    inputs = audit.inputs
    schema = as_mapping(inputs.get("schema"))
    sensitive = as_str_list(inputs.get("sensitive"))
    rep = details_of(_check(audit, "data.representativeness"), RepresentativenessDetails)
    return {
        "assay_version": audit.assay_version or None,
        "created_at": audit.created_at or None,
        "splits": _splits(inputs),
        "task": schema.get("task"),
        "target": schema.get("target"),
        "classes": as_str_list(schema.get("classes")),
        "columns": _columns(audit, schema, sensitive),
        "class_balance": rep.class_balance,
        "sensitive": sensitive,
        "sensitive_groups": list(rep.sensitive_groups),
        **_personal(audit),
        "known_issues": _issues(audit),
    }


def _balance_rows(
    balance: Mapping[str, Mapping[str, ClassShare]],
) -> tuple[list[str], list[tuple[str, list[ClassShare | None]]]]:
    """``(splits, [(class, [share per split])])`` of the class balance (train and test)."""
    bsplits = [s for s in ("train", "test") if s in balance]
    classes = list(balance[bsplits[0]]) if bsplits else []
    return bsplits, [(c, [balance[s].get(c) for s in bsplits]) for c in classes]


# -- Markdown -------------------------------------------------------------------------
def _md(value: Any) -> str:
    """A report value as literal Markdown text (see :func:`markdown_text`), ``—`` when empty."""
    return markdown_text(value) or DASH


def _code(value: Any) -> str:
    """A report value as a Markdown code span (see :func:`markdown_code`), ``—`` when empty."""
    return markdown_code(value) or DASH


def _count(value: Any) -> str:
    """A count as the datasheet prints it; text where a number belongs is escaped too."""
    return _md(fmt_number(value))


def _share(value: float | None) -> str:
    """A share from a typed details field (a number or ``None``) as a percentage."""
    return fmt_percent(float(value)) if value is not None else DASH


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _md_splits(d: Mapping[str, Any]) -> list[str]:
    lines = _table(
        ["split", "source", "rows", "columns", "fingerprint"],
        [
            [
                s["label"],
                _md(s["source"]),
                _count(s["rows"]),
                _count(s["columns"]),
                _code(short_hash(s["fingerprint"], 16)) if s["fingerprint"] else DASH,
            ]
            for s in d["splits"]
        ],
    )
    task = d["task"] or DASH
    if task == "clustering":
        lines += ["", "- Task: clustering", "- Target: none (a clustering model predicts none)"]
    elif task == "anomaly":
        label = _code(d["target"]) if d["target"] else "none were given"
        lines += ["", "- Task: anomaly detection", f"- Known anomaly labels: {label}"]
    else:
        lines += ["", f"- Task: {_md(task)}", f"- Target: {_md(d['target'])}"]
    if d["classes"] and task not in ("clustering", "anomaly"):
        lines.append(f"- Classes: {', '.join(_md(c) for c in d['classes'])}")
    return lines


def _md_columns(d: Mapping[str, Any]) -> list[str]:
    if not d["columns"]:
        return []
    names = [s["name"] for s in d["splits"]]
    lines = ["", "### Columns", ""]
    head = ["column", "type", "role"] + [f"missing ({n})" for n in names]
    rows = [
        [_md(c["name"]), _md(c["type"]), _md(c["role"])]
        + [_share(c["missing"].get(n)) for n in names]
        for c in d["columns"][:_MAX_COLUMNS]
    ]
    lines += _table(head, rows)
    if len(d["columns"]) > _MAX_COLUMNS:
        lines.append(f"\n{len(d['columns']) - _MAX_COLUMNS:,} more columns are in report.json.")
    if not any(c["missing"] for c in d["columns"]):
        lines.append("\nMissing values were not measured (the data.integrity check did not run).")
    return lines


def _md_balance(d: Mapping[str, Any]) -> list[str]:
    if not d["class_balance"]:
        return []
    bsplits, classes = _balance_rows(d["class_balance"])
    rows = [
        [_md(c)]
        + [
            f"{_share(cell.share if cell else None)} ({_count(cell.rows if cell else None)})"
            for cell in cells
        ]
        for c, cells in classes
    ]
    return [
        "",
        "### Class balance",
        "",
        *_table(["class", *[f"share of {s} (rows)" for s in bsplits]], rows),
    ]


def _md_sensitive(d: Mapping[str, Any]) -> list[str]:
    lines = ["", "### Sensitive attributes", ""]
    if d["sensitive"]:
        lines.append(f"Declared: {', '.join(_md(s) for s in d['sensitive'])}.")
        groups: list[GroupShare] = d["sensitive_groups"]
        if groups:
            lines.append("")
            lines += _table(
                ["attribute", "group", "split", "rows", "share"],
                [
                    [_md(g.column), _md(g.group), _md(g.split), _count(g.rows), _share(g.share)]
                    for g in groups[:_MAX_GROUPS]
                ],
            )
    else:
        lines.append("None declared (pass `--sensitive COL` to measure groups and fairness).")
    if d["sensitive_named"]:
        lines.append(
            "\nColumns named like sensitive attributes: "
            + ", ".join(_md(c) for c in d["sensitive_named"])
            + "."
        )
    return lines


def _md_personal(d: Mapping[str, Any]) -> list[str]:
    lines = ["", "### Personal data", ""]
    if d["pii_status"] is None:
        return [*lines, "Not checked (the security.pii check did not run)."]
    if d["pii_status"] == "skipped":
        return [*lines, f"Not checked: {_md(d['pii_summary'])}"]
    found: list[PiiColumn] = d["pii_columns"]
    if found:
        lines += _table(
            ["column", "kind", "rows (highest split)", "masked example"],
            [
                [
                    _md(r.column),
                    _md(r.label),
                    ("about " if r.estimated else "") + _share(r.max_share),
                    _code(r.example),
                ]
                for r in found
            ],
        )
    else:
        lines.append("No personal data was found in the values.")
    named: list[NameHint] = d["pii_named"]
    if named:
        listed = ", ".join(f"{_md(h.column)} ({_md(h.label)})" for h in named)
        lines.append(f"\nColumns named like personal data: {listed}.")
    if d["quasi_identifiers"]:
        lines.append(
            f"\nQuasi-identifiers (identify people in combination): "
            f"{', '.join(_md(c) for c in d['quasi_identifiers'])}."
        )
    if d["pii_sample"]:
        lines.append(f"\n{_md(d['pii_sample'])}")
    return lines


def _md_issues_and_checklist(d: Mapping[str, Any]) -> list[str]:
    lines = ["", "### Known issues", ""]
    if d["known_issues"]:
        for i in d["known_issues"]:
            lines.append(f"- **{_md(i['title'])}** ({_md(i['status'])}): {_md(i['summary'])}")
    else:
        lines.append("None: every data check that ran passed.")
    lines += [
        "",
        "## For the owner to answer",
        "",
        "Tick each question once it is answered, and keep the answers with the data.",
    ]
    for section, questions in CHECKLIST:
        lines += ["", f"### {section}", ""]
        lines += [f"- [ ] {q}" for q in questions]
    return lines


def render_datasheet(report: AuditResult | Mapping[str, Any]) -> str:
    """Render ``datasheet.md`` from an audit (or the content of ``report.json``).

    Examples
    --------
    >>> text = render_datasheet({"checks": [], "inputs": {"test": {"rows": 10, "columns": 3}}})
    >>> text.startswith("# Datasheet") and "| Test data |" in text
    True
    """
    d = datasheet_data(report)
    lines = [
        "# Datasheet for the dataset",
        "",
        f"Generated by Assay {_md(d['assay_version'])} on {_md(d['created_at'])}, in the spirit "
        'of "Datasheets for Datasets" (Gebru et al., 2021). The composition below is filled in '
        "from the data; the questions after it are for the dataset's owner to answer.",
        "",
        "## Composition",
        "",
        "### Splits",
        "",
    ]
    lines += _md_splits(d)
    lines += _md_columns(d)
    lines += _md_balance(d)
    lines += _md_sensitive(d)
    lines += _md_personal(d)
    lines += _md_issues_and_checklist(d)
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------
def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="ay-table-wrap"><table class="ay-detail-table"><thead><tr>{th}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def _html_splits_and_columns(d: Mapping[str, Any]) -> list[str]:
    parts = []
    if d["splits"]:
        rows = [
            [
                html_text(s["label"]),
                html_text(fmt_number(s["rows"])),
                html_text(fmt_number(s["columns"])),
            ]
            for s in d["splits"]
        ]
        parts.append(_html_table(["Split", "Rows", "Columns"], rows))
    if d["columns"]:
        names = [s["name"] for s in d["splits"]]
        rows = [
            [f"<code>{html_text(c['name'])}</code>", html_text(c["type"]), html_text(c["role"])]
            + [html_text(_share(c["missing"].get(n))) for n in names]
            for c in d["columns"][:_MAX_COLUMNS]
        ]
        table = _html_table(
            ["Column", "Type", "Role"] + [f"Missing ({html_text(n)})" for n in names], rows
        )
        parts.append(
            f'<details class="ay-block"><summary><h4>Columns ({len(d["columns"]):,})</h4>'
            f"</summary>{table}</details>"
        )
    return parts


def _html_balance(d: Mapping[str, Any]) -> list[str]:
    if not d["class_balance"]:
        return []
    bsplits, classes = _balance_rows(d["class_balance"])
    rows = [
        [f"<code>{html_text(c)}</code>"]
        + [html_text(_share(cell.share if cell else None)) for cell in cells]
        for c, cells in classes
    ]
    head = ["Class", *[f"Share of {html_text(s)}" for s in bsplits]]
    return ["<h4>Class balance</h4>" + _html_table(head, rows)]


def _html_facts(d: Mapping[str, Any]) -> str:
    facts = [
        "<li>Sensitive attributes: "
        + (", ".join(f"<code>{html_text(s)}</code>" for s in d["sensitive"]) or "none declared")
        + "</li>"
    ]
    found: list[PiiColumn] = d["pii_columns"]
    if d["pii_status"] in (None, "skipped"):
        facts.append("<li>Personal data: not checked.</li>")
    elif found:
        listed = ", ".join(
            f"<code>{html_text(r.column)}</code> ({html_text(r.label)}, e.g. "
            f"<code>{html_text(r.example)}</code>)"
            for r in found
        )
        facts.append(f"<li>Personal data found: {listed}.</li>")
    else:
        facts.append("<li>Personal data: none found in the values.</li>")
    named: list[NameHint] = d["pii_named"]
    if named:
        listed = ", ".join(f"<code>{html_text(h.column)}</code>" for h in named)
        facts.append(f"<li>Columns named like personal data: {listed}.</li>")
    return f'<ul class="ay-datasheet-facts">{"".join(facts)}</ul>'


def _html_issues_and_questions(d: Mapping[str, Any]) -> list[str]:
    parts = []
    if d["known_issues"]:
        items = "".join(
            f"<li><strong>{html_text(i['title'])}</strong> ({html_text(i['status'])}): "
            f"{html_text(i['summary'])}</li>"
            for i in d["known_issues"]
        )
        parts.append(f"<h4>Known issues</h4><ul>{items}</ul>")
    questions = "".join(
        f"<p><strong>{html_text(section)}</strong></p><ul>"
        + "".join(f"<li>☐ {html_text(q)}</li>" for q in qs)
        + "</ul>"
        for section, qs in CHECKLIST
    )
    parts.append(
        '<details class="ay-block"><summary><h4>For the owner to answer</h4></summary>'
        f'<div class="ay-ds-questions">{questions}</div></details>'
    )
    return parts


def datasheet_section(report: AuditResult | Report | Mapping[str, Any]) -> str:
    """The "Datasheet" section of the HTML report (the same content as ``datasheet.md``).

    Examples
    --------
    >>> datasheet_section({"checks": []}).startswith('<section class="ay-section')
    True
    """
    d = datasheet_data(report)
    parts = [
        '<section class="ay-section ay-datasheet" id="datasheet"><h2>Datasheet</h2>',
        '<p class="ay-blurb">What the data is made of, filled in from the data, and the '
        "questions only its owner can answer (<code>datasheet.md</code> holds the same).</p>",
        *_html_splits_and_columns(d),
        *_html_balance(d),
        _html_facts(d),
        *_html_issues_and_questions(d),
        "</section>",
    ]
    return "".join(parts)
