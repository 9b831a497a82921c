"""How strong a warn or fail is: ``strong``, ``moderate`` or ``weak``.

A reader must tell a solid finding from a marginal one. A check states its
evidence in its metrics: a p value (``p_value``, or any metric named ``p`` or
ending in ``_p`` / ``_p_value``) and, when it tests many things at once, a
multiplicity-adjusted q value (``q_value``, ``q``, ``…_q``, ``…_q_value``). The
grade comes from the smallest of them (q preferred when given):

- ``strong``: below :data:`STRONG` (0.001);
- ``moderate``: below :data:`MODERATE` (0.01);
- ``weak``: anything larger;

A check that names no p or q value is not graded (``None``): its verdict rests
on a fixed threshold, which the report says. Passing and skipped results are
never graded. The grade is derived from the metrics, so it round-trips through
``report.json`` unchanged.

Example
-------
>>> grade({"q_value": 0.0002}, "warn")
('strong', 'q = 0.0002')
>>> grade({"p_value": 0.03}, "fail")
('weak', 'p = 0.03')
>>> grade({"auc": 0.9}, "warn")
(None, '')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

Strength = Literal["strong", "moderate", "weak"]
STRONG = 0.001
MODERATE = 0.01
STRENGTH_ORDER: dict[str | None, int] = {"strong": 0, "moderate": 1, "weak": 2, None: 3}
"""Sort key: strong evidence first, ungraded last."""

_Q = re.compile(r"(^|_)q(_value)?$")
_P = re.compile(r"(^|_)p(_value)?$")


def _smallest(metrics: Mapping[str, Any], pattern: re.Pattern[str]) -> float | None:
    found = [
        float(v)
        for k, v in metrics.items()
        if pattern.search(k)
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
        and 0 <= v <= 1
    ]
    return min(found) if found else None


def grade(metrics: Mapping[str, Any], status: str) -> tuple[Strength | None, str]:
    """``(strength, basis)`` of a result with ``metrics`` and ``status``."""
    if status not in ("warn", "fail"):
        return None, ""
    q = _smallest(metrics, _Q)
    value, name = (q, "q") if q is not None else (_smallest(metrics, _P), "p")
    if value is None:
        return None, ""
    basis = f"{name} = {value:.2g}" if value >= 1e-4 else f"{name} < 0.0001"
    if value < STRONG:
        return "strong", basis
    if value < MODERATE:
        return "moderate", basis
    return "weak", basis
