"""Details type of ``evaluation.performance`` (re-exported there), light to import:
the model card and the summary read it without loading the metric code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.core.details import Details


@dataclass(frozen=True)
class PerformanceDetails(Details):
    """What ``evaluation.performance`` keeps in its ``details`` (``report.json``); the model
    card and the summary read ``main_metric`` and ``metric_labels``."""

    main_metric: str
    metric_labels: Mapping[str, str]
    intervals: Mapping[str, Mapping[str, Mapping[str, Any]]]
    main_interval_width: float | None
    interval_too_wide: bool
    precision: Mapping[str, Any]
    limits: tuple[Mapping[str, Any], ...]
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, int]
    sampled: bool
