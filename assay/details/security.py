"""Details type of ``security.pii`` (re-exported there), light to import: the datasheet
reads it without loading the scanner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.core.details import Details, Record


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
