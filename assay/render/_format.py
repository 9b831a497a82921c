"""Small, defensive helpers shared by the renderers: numbers, labels, statuses.

Escaping lives in :mod:`assay.render._escape` (one function per format).

Everything here takes whatever a ``report.json`` may hold (including nulls,
wrong types and hostile strings) and never raises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from assay.core.details import details_from_dict
from assay.render._escape import clean_text, html_text

if TYPE_CHECKING:
    from assay.core.details import Record
    from assay.core.result import CheckResult

R = TypeVar("R", bound="Record")

DASH = "—"

STATUS_ORDER = ("error", "fail", "warn", "pass", "skipped")
STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}
STATUS_LABEL = {
    "pass": "Pass",
    "warn": "Warning",
    "fail": "Fail",
    "error": "Error",
    "skipped": "Skipped",
}
STATUS_ICON = {"pass": "✓", "warn": "!", "fail": "✕", "error": "⚠", "skipped": "–"}
_SHARE_WORDS = {"share", "fraction"}
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

# Words that read better in capitals when a snake_case name is humanised.
_ACRONYMS = {
    "auc": "AUC",
    "roc": "ROC",
    "pr": "PR",
    "ece": "ECE",
    "mce": "MCE",
    "f1": "F1",
    "mae": "MAE",
    "mse": "MSE",
    "rmse": "RMSE",
    "r2": "R²",
    "psi": "PSI",
    "ks": "KS",
    "ci": "CI",
    "id": "ID",
    "ids": "IDs",
    "pii": "PII",
    "p50": "p50",
    "p95": "p95",
    "p99": "p99",
    "ms": "ms",
    "mb": "MB",
    "onnx": "ONNX",
}


esc = html_text
"""The HTML escaper under its older name (used by the monitor's dashboard);
see :func:`assay.render._escape.html_text`."""


def shorten(text: Any, limit: int) -> str:
    """``text`` as a string of at most ``limit`` characters (ellipsis when cut)."""
    s = clean_text(text) if text is not None else ""
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def as_number(value: Any) -> float | int | None:
    """A finite int or float, or ``None`` (bools, strings and NaN are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def fmt_number(value: Any, name: str = "") -> str:
    """Format a metric for people: 0.9123 → 0.912, 12345 → 12,345, None → —.

    Names with a ``share`` or ``fraction`` part (``missing_share``,
    ``overlap_share_test``) and a value in [0, 1] are shown as percentages
    (0.3 → 30.0%).
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    num = as_number(value)
    if num is None:
        if isinstance(value, str):
            return value
        return DASH
    if isinstance(num, float) and 0 <= num <= 1 and _SHARE_WORDS & set(name.lower().split("_")):
        return fmt_percent(num)
    if isinstance(num, int):
        return f"{num:,}"
    a = abs(num)
    if a == 0:
        return "0"
    if a < 0.001:
        return f"{num:.2e}"
    if a < 10:
        return f"{num:.3f}"
    if a >= 1e15:
        return f"{num:.3e}"
    if num.is_integer():
        return f"{num:,.0f}"
    if a < 1000:
        return f"{num:.2f}"
    return f"{num:,.1f}"


def fmt_percent(value: float) -> str:
    """0.3 → ``30.0%``; tiny non-zero shares keep two significant digits."""
    pct = value * 100
    if pct != 0 and abs(pct) < 0.1:
        return f"{pct:.2g}%"
    return f"{pct:.1f}%"


def fmt_unit(value: Any, unit: str | None) -> str:
    """A value formatted by its declared unit (see :mod:`assay.core.charts`): a
    ``share`` as a percentage (0.3 → 30.0%), ``points`` in percentage points
    (0.05 → +5.0 pp), anything else as :func:`fmt_number` (its axis or row label
    names the unit). The metrics table and the charts both format through here."""
    num = as_number(value)
    if num is None or isinstance(value, bool):
        return fmt_number(value)
    if unit == "share":
        return fmt_percent(float(num))
    if unit == "points":
        pts = float(num) * 100
        return f"{pts:+.1f} pp" if abs(pts) >= 0.1 or pts == 0 else f"{pts:+.2g} pp"
    return fmt_number(num)


def fmt_tick_unit(value: float, step: float, unit: str | None) -> str:
    """An axis tick in the chart's unit (shares and points on a percent scale)."""
    if unit == "share":
        return fmt_tick(value * 100, step * 100) + "%"
    if unit == "points":
        return fmt_tick(value * 100, step * 100) + " pp"
    return fmt_tick(value, step)


def fmt_tick(value: float, step: float) -> str:
    """An axis tick label with as many decimals as the tick step needs."""
    if step <= 0 or not math.isfinite(step):
        return fmt_number(value)
    decimals = max(0, min(6, -math.floor(math.log10(step) + 1e-9)))
    if abs(value) < step * 1e-6:
        value = 0.0
    if decimals == 0:
        return f"{value:,.0f}"
    return f"{value:.{decimals}f}"


def humanize(name: Any) -> str:
    """``missing_share`` → ``Missing share``; ``roc_auc`` → ``ROC AUC``."""
    text = clean_text(name) if name is not None else ""
    words = text.replace("_", " ").split()
    if not words:
        return text
    out = [_ACRONYMS.get(w.lower(), w) for w in words]
    first = out[0]
    if first == words[0] and first[:1].islower():
        out[0] = first[:1].upper() + first[1:]
    return " ".join(out)


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def details_of(check: CheckResult | None, tp: type[R]) -> R:
    """The ``details`` of a check of the report (``None`` when it is not there) read as the
    check's declared details type (:mod:`assay.core.details`) through ``details_as``
    (leniently, parsed once per type and kept on the result); the type's defaults when
    the check is not there."""
    if check is not None:
        return check.details_as(tp)
    return details_from_dict(tp, None)


def as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def as_str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [clean_text(v) for v in as_list(value) if v is not None]


def status_of(value: Any) -> str:
    """A known status string, or ``"unknown"``."""
    return value if isinstance(value, str) and value in STATUS_LABEL else "unknown"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def short_hash(value: Any, length: int = 12) -> str:
    """The first ``length`` characters of a hex digest (prefix like ``sha256:`` kept)."""
    text = clean_text(value) if value is not None else ""
    prefix = ""
    if ":" in text:
        prefix, _, text = text.partition(":")
        prefix += ":"
    return prefix + (text if len(text) <= length else text[:length] + "…")
