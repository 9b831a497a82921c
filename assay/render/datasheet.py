"""The datasheet: ``datasheet.md`` and the "Datasheet" section of the HTML report.

In the spirit of *Datasheets for Datasets* (Gebru et al., 2021): the
**composition** of the data is filled in from the report (splits, rows,
columns and their types, missing values, class balance, sensitive attributes
and their group sizes, personal data found, known issues from the checks);
the questions only the dataset's owner can answer — motivation, collection,
consent, preprocessing, intended uses, distribution, maintenance — are left
as a checklist.

Like every renderer, it reads the report dict only (``report.json``) and
computes nothing: every number shown is a field of the report. Missing or odd
fields are shown as "—" or left out; they never raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.render._escape import html_text, markdown_code, markdown_text
from assay.render._format import (
    DASH,
    as_list,
    as_mapping,
    as_number,
    as_str_list,
    clean_text,
    fmt_number,
    fmt_percent,
    short_hash,
    status_of,
)

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
def _check(report: Mapping[str, Any], check_id: str) -> Mapping[str, Any] | None:
    for c in as_list(report.get("checks")):
        if isinstance(c, Mapping) and c.get("id") == check_id:
            return c
    return None


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


def datasheet_data(report: Mapping[str, Any]) -> dict[str, Any]:
    """The datasheet's content, picked from the report dict (nothing is computed)."""
    report = as_mapping(report)
    inputs = as_mapping(report.get("inputs"))
    schema = as_mapping(inputs.get("schema"))
    types = as_mapping(schema.get("types"))
    sensitive = as_str_list(inputs.get("sensitive"))
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

    integrity = _check(report, "data.integrity")
    missing: dict[str, dict[str, Any]] = {}
    for row in as_list(as_mapping(integrity.get("details") if integrity else None).get("columns")):
        row = as_mapping(row)
        col, split = row.get("column"), row.get("split")
        if isinstance(col, str) and isinstance(split, str):
            missing.setdefault(col, {})[split] = row.get("missing_share")
    columns = []
    for name, ctype in types.items():
        role = roles.get(name, "other")
        if name in sensitive:
            role += ", sensitive"
        columns.append(
            {"name": name, "type": ctype, "role": role, "missing": missing.get(name, {})}
        )

    rep = _check(report, "data.representativeness")
    rep_details = as_mapping(rep.get("details") if rep else None)
    balance = as_mapping(rep_details.get("class_balance"))
    groups = [as_mapping(g) for g in as_list(rep_details.get("sensitive_groups"))]

    pii = _check(report, "security.pii")
    pii_details = as_mapping(pii.get("details") if pii else None)
    hints = [as_mapping(h) for h in as_list(pii_details.get("name_hints"))]

    issues = []
    for c in as_list(report.get("checks")):
        if not isinstance(c, Mapping):
            continue
        cid = str(c.get("id") or "")
        if not (cid.startswith("data.") or cid in _DATASET_CHECKS):
            continue
        if status_of(c.get("status")) in ("fail", "warn", "error"):
            issues.append(
                {
                    "id": cid,
                    "title": c.get("title") or cid,
                    "status": c.get("status"),
                    "summary": c.get("summary"),
                }
            )

    return {
        "assay_version": report.get("assay_version"),
        "created_at": report.get("created_at"),
        "splits": splits,
        "task": schema.get("task"),
        "target": schema.get("target"),
        "classes": as_str_list(schema.get("classes")),
        "columns": columns,
        "class_balance": balance,
        "sensitive": sensitive,
        "sensitive_groups": groups,
        "sensitive_named": [h.get("column") for h in hints if h.get("kind") == "SENSITIVE"],
        "pii_status": None if pii is None else status_of(pii.get("status")),
        "pii_summary": None if pii is None else pii.get("summary"),
        "pii_columns": [as_mapping(r) for r in as_list(pii_details.get("columns"))],
        "pii_named": [h for h in hints if h.get("kind") not in ("SENSITIVE", "QUASI_IDENTIFIER")],
        "quasi_identifiers": [
            h.get("column") for h in hints if h.get("kind") == "QUASI_IDENTIFIER"
        ],
        "pii_sample": pii_details.get("sample"),
        "known_issues": issues,
    }


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


def _share(value: Any) -> str:
    num = as_number(value)
    return fmt_percent(float(num)) if num is not None else DASH


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render_datasheet(report: Mapping[str, Any]) -> str:
    """Render ``datasheet.md`` from a report dict (the content of ``report.json``).

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
    lines += _table(
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

    names = [s["name"] for s in d["splits"]]
    if d["columns"]:
        lines += ["", "### Columns", ""]
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
            lines.append(
                "\nMissing values were not measured (the data.integrity check did not run)."
            )

    balance = d["class_balance"]
    if balance:
        lines += ["", "### Class balance", ""]
        bsplits = [s for s in ("train", "test") if s in balance]
        classes = list(as_mapping(balance.get(bsplits[0])).keys()) if bsplits else []
        rows = []
        for c in classes:
            cells = [_md(c)]
            for s in bsplits:
                cell = as_mapping(as_mapping(balance.get(s)).get(c))
                cells.append(f"{_share(cell.get('share'))} ({_count(cell.get('rows'))})")
            rows.append(cells)
        lines += _table(["class", *[f"share of {s} (rows)" for s in bsplits]], rows)

    lines += ["", "### Sensitive attributes", ""]
    if d["sensitive"]:
        lines.append(f"Declared: {', '.join(_md(s) for s in d['sensitive'])}.")
        if d["sensitive_groups"]:
            lines.append("")
            lines += _table(
                ["attribute", "group", "split", "rows", "share"],
                [
                    [
                        _md(g.get("column")),
                        _md(g.get("group")),
                        _md(g.get("split")),
                        _count(g.get("rows")),
                        _share(g.get("share")),
                    ]
                    for g in d["sensitive_groups"][:_MAX_GROUPS]
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

    lines += ["", "### Personal data", ""]
    if d["pii_status"] is None:
        lines.append("Not checked (the security.pii check did not run).")
    elif d["pii_status"] == "skipped":
        lines.append(f"Not checked: {_md(d['pii_summary'])}")
    else:
        if d["pii_columns"]:
            lines += _table(
                ["column", "kind", "rows (highest split)", "masked example"],
                [
                    [
                        _md(r.get("column")),
                        _md(r.get("label")),
                        ("about " if r.get("estimated") else "") + _share(r.get("max_share")),
                        _code(r.get("example")),
                    ]
                    for r in d["pii_columns"]
                ],
            )
        else:
            lines.append("No personal data was found in the values.")
        if d["pii_named"]:
            named = ", ".join(
                f"{_md(h.get('column'))} ({_md(h.get('label'))})" for h in d["pii_named"]
            )
            lines.append(f"\nColumns named like personal data: {named}.")
        if d["quasi_identifiers"]:
            lines.append(
                f"\nQuasi-identifiers (identify people in combination): "
                f"{', '.join(_md(c) for c in d['quasi_identifiers'])}."
            )
        if d["pii_sample"]:
            lines.append(f"\n{_md(d['pii_sample'])}")

    lines += ["", "### Known issues", ""]
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
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------
def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="ay-table-wrap"><table class="ay-detail-table"><thead><tr>{th}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def datasheet_section(report: Mapping[str, Any]) -> str:
    """The "Datasheet" section of the HTML report (the same content as ``datasheet.md``).

    Examples
    --------
    >>> datasheet_section({"checks": []}).startswith('<section class="ay-section')
    True
    """
    d = datasheet_data(report)
    names = [s["name"] for s in d["splits"]]
    parts = [
        '<section class="ay-section ay-datasheet" id="datasheet"><h2>Datasheet</h2>',
        '<p class="ay-blurb">What the data is made of, filled in from the data, and the '
        "questions only its owner can answer (<code>datasheet.md</code> holds the same).</p>",
    ]
    if d["splits"]:
        parts.append(
            _html_table(
                ["Split", "Rows", "Columns"],
                [
                    [
                        html_text(s["label"]),
                        html_text(fmt_number(s["rows"])),
                        html_text(fmt_number(s["columns"])),
                    ]
                    for s in d["splits"]
                ],
            )
        )
    if d["columns"]:
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
    balance = d["class_balance"]
    if balance:
        bsplits = [s for s in ("train", "test") if s in balance]
        classes = list(as_mapping(balance.get(bsplits[0])).keys()) if bsplits else []
        rows = [
            [f"<code>{html_text(c)}</code>"]
            + [
                html_text(_share(as_mapping(as_mapping(balance.get(s)).get(c)).get("share")))
                for s in bsplits
            ]
            for c in classes
        ]
        parts.append(
            "<h4>Class balance</h4>"
            + _html_table(["Class", *[f"Share of {html_text(s)}" for s in bsplits]], rows)
        )
    facts = []
    facts.append(
        "<li>Sensitive attributes: "
        + (", ".join(f"<code>{html_text(s)}</code>" for s in d["sensitive"]) or "none declared")
        + "</li>"
    )
    if d["pii_status"] in (None, "skipped"):
        facts.append("<li>Personal data: not checked.</li>")
    elif d["pii_columns"]:
        found = ", ".join(
            f"<code>{html_text(r.get('column'))}</code> ({html_text(r.get('label'))}, e.g. "
            f"<code>{html_text(r.get('example'))}</code>)"
            for r in d["pii_columns"]
        )
        facts.append(f"<li>Personal data found: {found}.</li>")
    else:
        facts.append("<li>Personal data: none found in the values.</li>")
    if d["pii_named"]:
        named = ", ".join(f"<code>{html_text(h.get('column'))}</code>" for h in d["pii_named"])
        facts.append(f"<li>Columns named like personal data: {named}.</li>")
    parts.append(f'<ul class="ay-datasheet-facts">{"".join(facts)}</ul>')
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
    parts.append("</section>")
    return "".join(parts)
