"""Render the check catalogue (``docs/checks.md``) from the registry.

Run ``python -m assay.core.catalogue > docs/checks.md``; a test fails when the
committed catalogue and the registry disagree.
"""

from __future__ import annotations

import json

from assay.core.registry import all_checks

_AREAS = {
    "data": "Data — can the data be trusted?",
    "evaluation": "Evaluation — how good is the model, and how sure are we?",
    "drift": "Drift and monitoring — has production moved away?",
    "fairness": "Fairness — does it treat groups alike?",
    "security": "Security and privacy",
    "efficiency": "Efficiency — what does it cost to run?",
    "governance": "Governance",
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

**Thresholds** are overridden per check in `assay.yaml`:

```yaml
thresholds:
  data.integrity: {missing_warn: 0.1}
```
"""


def render_catalogue() -> str:
    """The Markdown catalogue of every registered check."""
    lines = [_HEADER]
    specs = all_checks()
    lines.append("| id | title | needs | standards |")
    lines.append("| --- | --- | --- | --- |")
    for s in specs:
        anchor = s.id.replace(".", "")
        lines.append(
            f"| [`{s.id}`](#{anchor}) | {s.title} | {', '.join(s.needs) or '—'} "
            f"| {', '.join(s.standards)} |"
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
        lines.append(f"- Standards (NIST AI RMF): {', '.join(s.standards)}")
        if s.thresholds:
            lines.append("- Default thresholds:")
            for k, v in s.thresholds.items():
                lines.append(f"  - `{k}`: `{json.dumps(v)}`")
        else:
            lines.append("- Default thresholds: none")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_catalogue(), end="")
