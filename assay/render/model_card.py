"""The model card (``model_card.md``), after "Model Cards for Model Reporting"
(Mitchell et al., 2019): model details, intended use, factors, metrics,
evaluation data, training data, quantitative analyses, ethical
considerations, caveats and recommendations.

Every number is copied from the report (an audit, or ``report.json`` read once by
:func:`~assay.render._report.read_report` into typed results); nothing is
computed. What only the owner can know (intended use, out-of-scope uses,
owners, licence...) comes from the owner fields (the ``model_card:`` section
of ``assay.yaml``, see :mod:`assay.governance._owner`) or is left as a
clearly marked question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assay.render._escape import markdown_code, markdown_text
from assay.render._report import Report, gate_recorded, plan_input, read_report

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.result import CheckResult

__all__ = ["QUESTION", "render_model_card"]

QUESTION = "**Question for the owner:**"
DASH = "—"
_TASKS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
    "clustering": "clustering",
    "anomaly": "anomaly detection",
}
_UNSUPERVISED = ("clustering", "anomaly")
# The numbers a clustering or anomaly card leads with: (check, metric, label).
_HEADLINE_METRICS = {
    "clustering": (
        ("clustering.quality", "silhouette", "Silhouette (-1 to 1, higher is better separated)"),
        ("clustering.quality", "silhouette_null", "Silhouette of the same data shuffled (null)"),
        ("clustering.quality", "davies_bouldin", "Davies-Bouldin index (lower is better)"),
        ("clustering.quality", "calinski_harabasz", "Calinski-Harabasz index (higher is better)"),
        ("clustering.stability", "ari_mean", "Agreement with refits (adjusted Rand index)"),
        ("clustering.stability", "jaccard_min", "Smallest cluster's best-match Jaccard"),
        ("clustering.sizes", "n_clusters", "Clusters"),
        ("clustering.sizes", "smallest_share", "Smallest cluster's share of rows"),
        ("clustering.sizes", "largest_share", "Largest cluster's share of rows"),
    ),
    "anomaly": (
        ("anomaly.rate", "rate", "Share of rows flagged"),
        ("anomaly.rate", "contamination", "Stated contamination"),
        ("anomaly.rate_drift", "current_rate", "Share of current rows flagged"),
        ("anomaly.rate_drift", "rate_ratio", "Current flagged share / reference"),
        ("anomaly.detection", "pr_auc", "PR-AUC against the known anomalies"),
        ("anomaly.detection", "prevalence", "PR-AUC of random flagging (known anomaly share)"),
        ("anomaly.detection", "precision", "Precision at the flagged rate"),
        ("anomaly.detection", "recall", "Recall at the flagged rate"),
    ),
}
_STATUS: dict[str | None, str] = {  # looked up with a check's status, None when missing
    "pass": "pass",
    "warn": "warning",
    "fail": "FAIL",
    "error": "could not run",
    "skipped": "skipped",
}
_MAX_ROWS = 40  # rows per table
_ASK = {
    "name": "What is this model called?",
    "version": "Which version of the model is this?",
    "owners": "Who owns this model and answers for it (a team and a contact)?",
    "licence": "Under which licence or terms may the model be used?",
    "intended_use": "What is the model for, in which setting, and what decisions does it support?",
    "intended_users": "Who is meant to use the model's output?",
    "out_of_scope_uses": "What must the model not be used for?",
    "factors": "Which groups, settings or conditions could change how well the model works?",
    "ethical_considerations": (
        "Who could be harmed by the model's errors, and how were those risks weighed?"
    ),
    "caveats": "What else should a user know before relying on the model?",
}


# -- text helpers ---------------------------------------------------------------
def _m(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def _l(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else []


def text(value: Any) -> str:
    """Free text as literal Markdown on one line (see :func:`markdown_text`)."""
    return markdown_text(value)


def code(value: Any) -> str:
    """A name as inline code, whatever backticks or pipes it holds (see :func:`markdown_code`)."""
    return markdown_code(value) or "` `"


def num(value: Any) -> str:
    """A number as the card prints it: integers with separators, floats to 4 decimals."""
    if isinstance(value, bool) or value is None:
        return DASH if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return DASH
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4f}"
    return text(value)


def _table(head: list[str], rows: list[list[str]], more: str = "") -> str:
    if not rows:
        return ""
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows[:_MAX_ROWS]]
    if len(rows) > _MAX_ROWS:
        out.append(f"\n_{len(rows) - _MAX_ROWS:,} more rows {more or 'in report.json'}._")
    return "\n".join(out) + "\n"


def _owner_value(owner: Mapping[str, Any], key: str) -> str | None:
    v = owner.get(key)
    if isinstance(v, list):
        return "; ".join(text(x) for x in v if str(x).strip()) or None
    return text(v) or None


def _field(owner: Mapping[str, Any], key: str, label: str) -> str:
    v = _owner_value(owner, key)
    return f"- **{label}:** {v}" if v else f"- **{label}:** {QUESTION} {_ASK[key]}"


def _check(audit: Report, check_id: str) -> CheckResult | None:
    return next((c for c in audit.checks if c.id == check_id), None)


def _ran(c: CheckResult | None) -> bool:
    return c is not None and c.status not in ("skipped", "error")


def _conf(audit: Report) -> str:
    c = audit.settings.get("confidence")
    return f"{c * 100:g}%" if isinstance(c, float) and 0 < c < 1 else "confidence"


def _interval(metrics: Mapping[str, float | int | None], k: str) -> str:
    lo, hi = metrics.get(f"{k}_low"), metrics.get(f"{k}_high")
    if lo is None or hi is None:
        return DASH
    return f"{num(lo)} – {num(hi)}"


def _data_line(name: str, split: Mapping[str, Any]) -> str:
    src = split.get("path") or split.get("kind") or "not recorded"
    fp = split.get("fingerprint") or split.get("file_sha256")
    parts = [
        f"{num(split.get('rows'))} rows × {num(split.get('columns'))} columns",
        f"source {code(src)}",
    ]
    if fp:
        parts.append(f"fingerprint {code(fp)}")
    return f"- **{name}:** " + ", ".join(parts)


# -- sections -------------------------------------------------------------------
def _details(audit: Report, owner: Mapping[str, Any]) -> list[str]:
    inputs = audit.inputs
    schema = _m(inputs.get("schema"))
    model = _m(inputs.get("model"))
    lines = ["## Model details", ""]
    lines.append(_field(owner, "name", "Name"))
    lines.append(_field(owner, "version", "Version"))
    if model:
        kind = f" ({text(model.get('kind'))})" if model.get("kind") else ""
        where = f", loaded from {code(model['path'])}" if model.get("path") else ""
        lines.append(f"- **Model type:** {code(model.get('class') or 'unknown')}{kind}{where}")
    else:
        cols = _m(inputs.get("prediction_columns"))
        given = [c for c in [cols.get("prediction"), *_l(cols.get("score"))] if c]
        shown = ", ".join(code(c) for c in given) or "columns of the test data"
        lines.append(f"- **Model type:** not given to the audit; predictions read from {shown}")
    task = schema.get("task")
    target = schema.get("target")
    classes = _l(schema.get("classes"))
    what = _TASKS.get(str(task), text(task) or "unknown task")
    line = f"- **Task:** {what} of {code(target) if target else 'the target'}"
    if task == "clustering":
        line = "- **Task:** clustering: the model puts each row in a group; it predicts no target"
    elif task == "anomaly":
        line = "- **Task:** anomaly detection: the model flags the rows least like the rest"
        line += (
            f"; known anomaly labels in {code(target)}"
            if target
            else "; no known anomaly labels were given"
        )
    positive = audit.settings.get("positive_label")
    if task == "anomaly" and target and positive is not None:
        line += f" ({code(positive)} marks an anomaly)"
    elif task not in _UNSUPERVISED:
        if classes:
            line += " with classes " + ", ".join(code(c) for c in classes[:20])
        if positive is not None:
            line += f" (positive class {code(positive)})"
    lines.append(line)
    features = _l(schema.get("features"))
    if features:
        shown = ", ".join(code(f) for f in features[:30])
        extra = f" and {len(features) - 30:,} more" if len(features) > 30 else ""
        lines.append(f"- **Input features ({len(features):,}):** {shown}{extra}")
    lines.append(_field(owner, "owners", "Owners"))
    if owner.get("contact"):
        lines.append(f"- **Contact:** {text(owner['contact'])}")
    lines.append(_field(owner, "licence", "Licence"))
    verdicts: dict[bool | None, str] = {True: "failed", False: "passed"}
    verdict = verdicts.get(gate_recorded(audit), "not recorded")
    lines.append(
        f"- **Audit:** Assay {text(audit.assay_version or '?')}, "
        f"{text(audit.created_at or 'date not recorded')}; quality gate {verdict}"
    )
    return lines


def _intended(owner: Mapping[str, Any]) -> list[str]:
    return [
        "## Intended use",
        "",
        _field(owner, "intended_use", "Primary intended uses"),
        _field(owner, "intended_users", "Primary intended users"),
        _field(owner, "out_of_scope_uses", "Out-of-scope uses"),
    ]


def _fairness_checks(audit: Report) -> list[CheckResult]:
    return [c for c in audit.checks if c.area == "fairness" or c.id == "clustering.fairness"]


def _factors(audit: Report, owner: Mapping[str, Any]) -> list[str]:
    sensitive = [str(s) for s in _l(audit.inputs.get("sensitive"))]
    lines = ["## Factors", ""]
    if sensitive:
        lines.append("- **Sensitive attributes audited:** " + ", ".join(code(s) for s in sensitive))
    else:
        lines.append(
            "- **Sensitive attributes audited:** none were given, so results were not broken "
            "down by group (give `--sensitive COLUMN` to the audit)."
        )
    for c in _fairness_checks(audit):
        lines.append(
            f"- **{text(c.title or c.id)}:** {_STATUS.get(c.status, '?')} — {text(c.summary)}"
        )
    lines.append(_field(owner, "factors", "Other relevant factors"))
    return lines


def _unsupervised_metrics(audit: Report, task: str) -> list[str]:
    """The Metrics section of a clustering or anomaly card: the report's headline
    sentence, then the task's own numbers (there is no accuracy to report)."""
    from assay.render._unsupervised import unsupervised_headline

    settings = audit.settings
    lines = ["## Metrics", ""]
    headline = unsupervised_headline(audit)
    if headline:
        lines += [f"**In one sentence:** {text(headline)}", ""]
    labelled = _ran(_check(audit, "anomaly.detection"))
    if task == "clustering":
        why = (
            "A clustering has no right answers to score against, so this card reports no "
            "accuracy: it reports how well separated the clusters are (against the same data "
            "with every column shuffled), whether they come back when refitted, and their sizes."
        )
    elif labelled:
        why = (
            "The detector is measured against the known anomaly labels: precision and recall "
            "at the share of rows it flags, and PR-AUC (random flagging scores the anomaly share)."
        )
    else:
        why = (
            "No known anomaly labels were given, so this card reports the share of rows the "
            "detector flags and how it moved, not how many real anomalies it finds."
        )
    lines.append(
        f"{why} Measured on the test data; intervals are {_conf(audit)} intervals "
        f"({num(settings.get('n_bootstrap'))} resamples, seed {num(settings.get('seed'))})."
    )
    rows = []
    for check_id, key, label in _HEADLINE_METRICS[task]:
        c = _check(audit, check_id)
        if c is None or not _ran(c):
            continue
        metrics = c.metrics
        v = metrics.get(key)
        if v is None:
            continue
        if key.startswith("n_") and isinstance(v, float) and v.is_integer():
            v = int(v)
        rows.append([text(label), code(f"{check_id}.{key}"), num(v), _interval(metrics, key)])
    if rows:
        lines += ["", _table(["Metric", "Id", "Test", f"{_conf(audit)} interval"], rows).rstrip()]
    else:
        lines += ["", f"No {_TASKS[task]} check gave a number in this audit."]
    return lines


def _metrics(audit: Report) -> list[str]:
    task = _m(audit.inputs.get("schema")).get("task")
    if task in _UNSUPERVISED:
        return _unsupervised_metrics(audit, str(task))
    perf = _check(audit, "evaluation.performance")
    lines = ["## Metrics", ""]
    if perf is None or not _ran(perf):
        why = text(perf.summary) if perf else "The performance check did not run."
        return [*lines, f"No performance metrics: {why}"]
    from assay.details.evaluation import PerformanceDetails

    metrics = perf.metrics
    details = perf.details_as(PerformanceDetails)
    labels = details.metric_labels
    settings = audit.settings
    lines.append(
        f"Measured on the test data; intervals are {_conf(audit)} bootstrap intervals "
        f"({num(settings.get('n_bootstrap'))} resamples, seed {num(settings.get('seed'))})."
        + (f" The headline metric is {code(details.main_metric)}." if details.main_metric else "")
    )
    lines.append("")
    rows = []
    for k, v in metrics.items():
        if k.endswith(("_low", "_high")) or k.startswith("train_"):
            continue
        train = metrics.get(f"train_{k}")
        rows.append(
            [
                text(labels.get(k) or k),
                code(k),
                num(v),
                _interval(metrics, k),
                num(train) if f"train_{k}" in metrics else DASH,
            ]
        )
    lines.append(
        _table(["Metric", "Id", "Test", f"{_conf(audit)} interval", "Training"], rows).rstrip()
    )
    return lines


def _data(audit: Report, name: str, keys: tuple[str, ...]) -> list[str]:
    inputs = audit.inputs
    labels = {
        "test": "Test data",
        "current": "Current (production) data",
        "train": "Training data",
    }
    lines = [f"## {name}", ""]
    present = [k for k in keys if isinstance(inputs.get(k), Mapping)]
    for k in present:
        lines.append(_data_line(labels[k], _m(inputs[k])))
    if not present:
        lines.append(f"{name} was not given to the audit.")
    if "train" in keys:
        lines.append(
            "- A datasheet for the data (`datasheet.md`), when the audit wrote one, "
            "describes its composition and known issues."
        )
    return lines


def _status_table(audit: Report) -> str:
    rows = [
        [code(c.id), _STATUS.get(c.status, text(c.status)), text(c.summary)] for c in audit.checks
    ]
    return _table(["Check", "Status", "Summary"], rows)


def _interval_rows(audit: Report) -> list[list[str]]:
    rows = []
    for c in audit.checks:
        if c.id == "evaluation.performance":
            continue
        metrics = c.metrics
        for k, v in metrics.items():
            if k.endswith(("_low", "_high")) or f"{k}_low" not in metrics:
                continue
            rows.append([code(c.id), code(k), num(v), _interval(metrics, k)])
    return rows


def _group_lists(details: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Per-group tables in a check's details: lists of rows with a ``group`` key,
    at the top level or one level down (e.g. one list per attribute set)."""
    found = []
    for key, v in details.items():
        items = [x for x in _l(v) if isinstance(x, Mapping)]
        if items and all("group" in x for x in items):
            found.append((str(key), items))
            continue
        for x in items:
            for k2, v2 in x.items():
                inner = [y for y in _l(v2) if isinstance(y, Mapping)]
                if inner and all("group" in y for y in inner):
                    label = x.get("attributes") or x.get("name") or k2
                    if isinstance(label, list):
                        label = " × ".join(str(a) for a in label)
                    found.append((str(label), inner))
    return found


def _group_table(items: list[Mapping[str, Any]]) -> str:
    cols: list[str] = []
    for x in items:
        for k, v in x.items():
            if k == "group" or k.endswith(("_low", "_high")) or k in cols:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool) and len(cols) < 8:
                cols.append(str(k))
    rows = []
    for x in items:
        cells = [code(x.get("group"))]
        for k in cols:
            v = x.get(k)
            count_like = k in ("count", "size", "rows", "n") or k.startswith("n_")
            if count_like and isinstance(v, float) and v.is_integer():
                v = int(v)
            cell = num(v)
            if x.get(f"{k}_low") is not None and x.get(f"{k}_high") is not None:
                cell += f" ({num(x[f'{k}_low'])} – {num(x[f'{k}_high'])})"
            cells.append(cell)
        if x.get("too_small") is True:
            cells[0] += " (too small to judge)"
        rows.append(cells)
    return _table(["group", *(text(c) for c in cols)], rows)


def _finding_rows(c: CheckResult) -> list[list[str]]:
    rows = []
    for f in c.findings:
        if f.group is None:
            continue
        numbers = ", ".join(f"{text(k)} {num(v)}" for k, v in f.metrics.items())
        rows.append([code(f.group), _STATUS.get(f.status, "?"), text(f.message), numbers])
    return rows


def _disaggregated(audit: Report, c: CheckResult) -> list[str]:
    lines = [f"**{text(c.title or c.id)}** ({code(c.id)}): {text(c.summary)}", ""]
    tables = _group_lists(c.details)
    if tables:
        lines.append(f"Per group, with {_conf(audit)} intervals in brackets:")
        lines.append("")
    for label, items in tables:
        lines += [f"*{text(label)}*", "", _group_table(items).rstrip(), ""]
    rows = _finding_rows(c)
    if rows:
        lines += [
            "Gaps found:" if tables else "",
            "",
            _table(["group", "status", "finding", "numbers"], rows).rstrip(),
            "",
        ]
    return lines


def _quantitative(audit: Report) -> list[str]:
    lines = ["## Quantitative analyses", "", "### Every check of the audit", ""]
    lines.append(_status_table(audit).rstrip() or "No checks were run.")
    rows = _interval_rows(audit)
    if rows:
        lines += ["", "### Other measurements with intervals", ""]
        lines.append(
            _table(["Check", "Metric", "Value", f"{_conf(audit)} interval"], rows).rstrip()
        )
    lines += ["", "### Disaggregated results", ""]
    found = False
    for c in [*_fairness_checks(audit), _check(audit, "evaluation.weak_segments")]:
        if c is None or not _ran(c):
            continue
        lines += _disaggregated(audit, c)
        found = True
    if not found:
        sensitive = _l(audit.inputs.get("sensitive"))
        hint = "" if sensitive else " (give sensitive attributes with `--sensitive COLUMN`)"
        lines.append(
            "No results broken down by group: no fairness or segment check ran in this "
            f"audit{hint}."
        )
    return lines


def _ethics(audit: Report, owner: Mapping[str, Any]) -> list[str]:
    lines = ["## Ethical considerations", ""]
    relevant = [
        c for c in audit.checks if c.area in ("fairness", "security") and c.status != "skipped"
    ]
    for c in relevant:
        lines.append(
            f"- **{text(c.title or c.id)}** ({code(c.id)}): "
            f"{_STATUS.get(c.status, '?')} — {text(c.summary)}"
        )
    if not relevant:
        lines.append(
            "- The audit ran no fairness, privacy or security check; their absence is not "
            "evidence that the model is fair, private or secure."
        )
    lines.append(_field(owner, "ethical_considerations", "Owner's assessment"))
    return lines


def _caveats(audit: Report, owner: Mapping[str, Any]) -> list[str]:
    from assay.governance._plan import remediation_plan

    lines = ["## Caveats and recommendations", ""]
    plan = remediation_plan(plan_input(audit))
    if plan:
        lines.append("What the audit found to fix, most important first:")
        lines.append("")
        for n, s in enumerate(plan, 1):
            rec = f" {text(s['recommendation'])}" if s["recommendation"] else ""
            strength = f"{s['evidence']['strength']} evidence, " if s.get("evidence") else ""
            lines.append(
                f"{n}. **{text(s['title'])}** ({code(s['check_id'])}, "
                f"{_STATUS.get(s['status'], '?')}, {text(s['severity'])} severity, {strength}"
                f"{text(s['effort'])} effort): {text(s['summary'])}{rec}"
            )
    else:
        lines.append("The audit found nothing to fix.")
    skipped = [c for c in audit.checks if c.status == "skipped"]
    if skipped:
        lines += ["", "Not evaluated by this audit:", ""]
        lines += [f"- {code(c.id)}: {text(c.summary)}" for c in skipped]
    lines += ["", _field(owner, "caveats", "Owner's caveats")]
    return lines


def _decisions(audit: Report) -> list[str]:
    """People's decisions on the next steps (recorded in the workbench), newest per step."""
    from assay.render._governance import DECISION_WORDS, decision_when, latest_decisions

    latest = latest_decisions(audit)
    if not latest:
        return []
    titles = {c.id: c.title or c.id for c in audit.checks}
    lines = ["## Decisions on the findings", ""]
    for cid, d in latest.items():
        comment = f": {text(d['comment'])}" if d["comment"] else ""
        lines.append(
            f"- **{text(titles.get(cid, cid))}** ({code(cid)}): "
            f"{text(DECISION_WORDS.get(d['decision'], d['decision']))}, by {text(d['who'])} "
            f"on {decision_when(d['at'])}{comment}"
        )
    return lines


def _standards(audit: Report) -> list[str]:
    from assay.governance._crosswalk import nist_sort_key
    from assay.governance._plan import governance_of

    nist = _m(governance_of({"extra": audit.extra}).get("nist_ai_rmf"))
    with_evidence = [k for k, v in nist.items() if _l(_m(v).get("checks"))]
    if not with_evidence:
        ids = sorted({s for c in audit.checks for s in c.standards}, key=nist_sort_key)
        with_evidence = ids
    if not with_evidence:
        return []
    return [
        "## Standards",
        "",
        "This audit gives evidence for these NIST AI RMF 1.0 (NIST AI 100-1) subcategories: "
        + ", ".join(text(s) for s in with_evidence)
        + ". The report's governance section maps each check to them and to ISO/IEC "
        "42001:2023 Annex A controls, and lists what people still have to do.",
    ]


def render_model_card(
    report: AuditResult | Mapping[str, Any], owner: Mapping[str, Any] | None = None
) -> str:
    """Render ``model_card.md`` from an audit and the owner's fields.

    Parameters
    ----------
    report
        An :class:`~assay.AuditResult`, or ``report.json`` loaded (its ``to_dict()``).
    owner
        Owner fields (``name``, ``version``, ``owners``, ``contact``,
        ``licence``, ``intended_use``, ``intended_users``,
        ``out_of_scope_uses``, ``factors``, ``ethical_considerations``,
        ``caveats``). Defaults to those recorded in the report's governance
        block; each one missing becomes a marked question.

    Examples
    --------
    >>> card = render_model_card({"checks": [], "inputs": {}}, {"licence": "MIT"})
    >>> "- **Licence:** MIT" in card and "**Question for the owner:** What is" in card
    True
    """
    from assay.errors import ConfigError
    from assay.governance._owner import OWNER_FIELDS, owner_fields
    from assay.governance._plan import governance_of

    audit = read_report(report)
    if owner is None:
        owner = _m(governance_of({"extra": audit.extra}).get("owner"))
    try:
        owner = owner_fields(owner)
    except ConfigError:  # a hand-edited report: keep what is usable, never fail
        owner = {
            k: v for k, v in _m(owner).items() if k in OWNER_FIELDS and isinstance(v, (str, list))
        }
    name = _owner_value(owner, "name")
    model_cls = str(_m(audit.inputs.get("model")).get("class") or "")
    title = name or (text(model_cls.rsplit(".", 1)[-1]) if model_cls else "the audited model")
    questions = sum(1 for k in _ASK if not owner.get(k))
    intro = [
        f"# Model card: {title}",
        "",
        f"> Generated by Assay from `report.json` ({text(audit.created_at or 'undated')})."
        " Every number below is copied from that report."
        + (
            f" {questions} item(s) marked **Question for the owner** need an answer from the "
            "model's owner: add them under `model_card:` in `assay.yaml` and run "
            "`assay card report.json`."
            if questions
            else ""
        ),
    ]
    sections = [
        intro,
        _details(audit, owner),
        _intended(owner),
        _factors(audit, owner),
        _metrics(audit),
        _data(audit, "Evaluation data", ("test", "current")),
        _data(audit, "Training data", ("train",)),
        _quantitative(audit),
        _ethics(audit, owner),
        _caveats(audit, owner),
        _decisions(audit),
        _standards(audit),
    ]
    return "\n\n".join("\n".join(s).strip() for s in sections if s) + "\n"
