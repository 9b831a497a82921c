"""Render the check catalogue (``docs/checks.md``) from the registry.

Run ``python -m assay.core.catalogue > docs/checks.md``; a test fails when the
committed catalogue and the registry disagree.
"""

from __future__ import annotations

import json

from assay.core.params import param_fields, params_of
from assay.core.registry import all_checks

_AREAS = {
    "data": "Data — can the data be trusted?",
    "evaluation": "Evaluation — how good is the model, and how sure are we?",
    "drift": "Drift and monitoring — has production moved away?",
    "fairness": "Fairness — does it treat groups alike?",
    "security": "Security and privacy",
    "efficiency": "Efficiency — what does it cost to run?",
    "governance": "Governance",
    "clustering": "Clustering — are the segments real, stable and fair? (`--task clustering`)",
    "anomaly": "Anomaly detection — how much is flagged, and is it right? (`--task anomaly`)",
}

_HEADER = """# Check catalogue

Every check Assay runs, with its stable id, what it needs, its default
thresholds and the NIST AI RMF subcategories it serves. This file is generated
from the registry (`make catalogue`); a test keeps it in step.

**Statuses.** `pass` — nothing to act on. `warn` — worth a look; does not fail
the gate unless `--fail-on warn`. `fail` — a problem that fails the gate (exit
code 1). `error` — the check itself could not run (the audit goes on).
`skipped` — not applicable to what was given; the summary says why.

**Needs.** `train`: training data; `model`: a model or prediction columns;
`scores`: class probabilities; `labels`: a target column; `current`:
production data.

**Extras.** Optional packages a check needs, by the extra that installs them
(`pip install 'assay[labels]'`); tasks in parentheses limit it to those tasks.
Without them the check is skipped, and its summary names the extra and the
command.

**Parameters** (thresholds) are overridden per check in `assay.yaml`; an unknown
name, a value of the wrong type or out of its bounds is refused before any data is
read (exit code 2). `assay schema` prints the JSON Schema of `assay.yaml`
([`docs/assay.schema.json`](assay.schema.json)) for completion in an editor.

```yaml
# yaml-language-server: $schema=docs/assay.schema.json
thresholds:
  data.integrity: {missing_warn: 0.1}
```
"""


def render_catalogue() -> str:
    """The Markdown catalogue of every registered check."""
    lines = [_HEADER]
    specs = all_checks()
    lines.append("| id | title | needs | extras | standards |")
    lines.append("| --- | --- | --- | --- | --- |")
    for s in specs:
        anchor = s.id.replace(".", "")
        lines.append(
            f"| [`{s.id}`](#{anchor}) | {s.title} | {', '.join(s.needs) or '—'} "
            f"| {_extras(s) or '—'} | {', '.join(s.standards)} |"
        )
    area = None
    for s in specs:
        if s.area != area:
            area = s.area
            lines.append(f"\n## {_AREAS.get(area, area.title())}\n")
        lines.append(f"### `{s.id}`\n")
        lines.append(f"**{s.title}.** {s.explanation}\n")
        lines.append(f"- Severity: {s.severity}")
        lines.append(f"- Needs: {', '.join(s.needs) or 'test data only'}")
        lines.append(f"- Tasks: {', '.join(s.tasks)}")
        if s.extras:
            lines.append(f"- Extras: {_extras(s)}")
        lines.append(f"- Standards (NIST AI RMF): {', '.join(s.standards)}")
        lines.extend(_parameters(s))
        lines.append("")
    lines.extend(_gate_policy_section(specs))
    return "\n".join(lines).rstrip() + "\n"


def _parameters(spec) -> list[str]:
    """The parameters table of a check: name, type, default, bounds and doc."""
    fields = param_fields(params_of(spec))
    if not fields:
        return ["- Parameters: none"]
    out = [
        "",
        "| parameter | type | default | bounds | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in fields:
        default = json.dumps(f.default, ensure_ascii=False)
        if len(default) > 40:
            default = default[:37] + "..."
        doc = f.doc.replace("|", "\\|")
        out.append(
            f"| `{f.name}` | {f.kind} | `{default}` | {f.bounds_text() or '—'} | {doc or '—'} |"
        )
    return out


def _extras(spec) -> str:
    """``labels`` (binary, multiclass), as the catalogue shows a check's extras."""
    parts = [f"`{e.name}`" + (f" ({', '.join(e.tasks)})" if e.tasks else "") for e in spec.extras]
    return ", ".join(parts)


def _gate_policy_section(specs) -> list[str]:
    """The gate policy table (:mod:`assay.core.gate_policy`) for the registered checks."""
    from assay.core.gate_policy import policy_for

    lines = [
        "\n## Gate policy\n",
        "What fails the gate (exit code 1) with default thresholds, and what only warns. "
        "*null*: the check tests a 'no problem' hypothesis and holds a stated error rate by "
        "construction (about 5% of clean audits at most); *property*: it measures a real "
        "property of the model, and an alarm needs an effect that is statistically clear, "
        "material and replicates on held-out rows; *record*: it alarms on a stated limit. "
        "Measured on real data by `bench/verdicts` (see `docs/benchmarks.md`).\n",
        "| id | kind | fails the gate | only warns |",
        "| --- | --- | --- | --- |",
    ]
    for s in specs:
        p = policy_for(s.id)
        if p is None:
            lines.append(f"| `{s.id}` | — | see the check | see the check |")
            continue
        lines.append(f"| `{s.id}` | {p.kind} | {p.fails} | {p.warns} |")
    return lines


if __name__ == "__main__":  # pragma: no cover
    print(render_catalogue(), end="")
