"""Details types of ``data.integrity`` and ``data.representativeness`` (re-exported there),
light to import: the datasheet reads them without loading Polars-based check code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.core.details import Details, Record


@dataclass(frozen=True)
class IntegrityColumn(Record):
    """One column of one split in ``data.integrity``'s details (read by the datasheet)."""

    column: str
    split: str
    type: str | None
    missing_share: float | None
    n_unique: int | None
    dominant_share: float | None


@dataclass(frozen=True)
class IntegrityDetails(Details):
    """What ``data.integrity`` keeps in its ``details`` (``report.json``)."""

    columns: tuple[IntegrityColumn, ...]


@dataclass(frozen=True)
class ClassShare(Record):
    """The rows of one class in one split (``class_balance[split][class]``)."""

    rows: int | None
    share: float | None


@dataclass(frozen=True)
class GroupShare(Record):
    """The rows of one group of a sensitive column in one split."""

    column: str | None
    group: str | None
    split: str | None
    rows: int | None
    share: float | None


@dataclass(frozen=True)
class RepresentativenessDetails(Details):
    """What ``data.representativeness`` keeps in its ``details`` (``report.json``); the
    datasheet reads ``class_balance`` and ``sensitive_groups``."""

    compared: tuple[str, ...]
    identifier_like_columns_skipped: tuple[Any, ...]
    class_balance: Mapping[str, Mapping[str, ClassShare]]
    sensitive_groups: tuple[GroupShare, ...]
    unseen_categories: tuple[Mapping[str, Any], ...]
    out_of_range: tuple[Mapping[str, Any], ...]
    population: tuple[Any, ...]
