"""Audit configuration, from keyword arguments or an ``assay.yaml`` file.

Example ``assay.yaml``::

    target: income
    task: binary
    categorical: [education_num]
    ignore: [fnlwgt]
    seed: 0
    n_bootstrap: 500
    checks:
      exclude: [data.target_leakage]
      enable: [efficiency]        # opt-in checks, by area or id
    thresholds:
      data.integrity: {missing_warn: 0.1}
    decisions:                    # columns of the --decisions table, if not these names
      prediction: model_output
      reviewer: analyst_id
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assay.core.context import AuditSettings
from assay.errors import ConfigError
from assay.io._yaml import read_yaml_mapping
from assay.io.schema import COLUMN_TYPES, TASKS, ColumnType, Task

_LIST_FIELDS = ("categorical", "numeric", "ignore", "score", "sensitive", "enable")

DECISION_COLUMNS = ("prediction", "decision", "label", "reviewer", "seconds")
"""Roles of the columns of a decisions table (``--decisions``); each defaults to its own name."""


def decision_columns(mapping: Mapping[str, Any] | None, *, source: str = "decisions") -> dict:
    """The column of every role of a decisions table, from the ``decisions:`` mapping.

    >>> decision_columns({"reviewer": "analyst"})["reviewer"], decision_columns(None)["label"]
    ('analyst', 'label')
    >>> decision_columns({"reviwer": "analyst"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assay.errors.ConfigError: decisions.reviwer: unknown column role; did you mean 'reviewer'? ...
    """
    out = {role: role for role in DECISION_COLUMNS}
    if not mapping:
        return out
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{source}: must be a mapping of column role to column name")
    for role, column in mapping.items():
        if role not in out:
            near = difflib.get_close_matches(str(role), DECISION_COLUMNS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ConfigError(
                f"{source}.{role}: unknown column role; {hint}known: {', '.join(DECISION_COLUMNS)}"
            )
        if not isinstance(column, str) or not column:
            raise ConfigError(f"{source}.{role}: must be a column name, got {column!r:.60}")
        out[role] = column
    return out


@dataclass
class AuditConfig:
    """Options of an audit. Every field can come from ``assay.yaml``."""

    target: str | None = None
    task: Task | None = None
    prediction: str | None = None
    score: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    types: dict[str, ColumnType] = field(default_factory=dict)
    positive_label: Any = None
    seed: int = 0
    n_bootstrap: int = 500
    confidence: float = 0.95
    max_rows_model_checks: int = 200_000
    include: list[str] = field(default_factory=list)
    enable: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_on: str = "fail"
    model_card: dict[str, Any] = field(default_factory=dict)
    """Owner answers for the model card (intended use, owners, licence...)."""
    decisions: dict[str, str] = field(default_factory=dict)
    """Column names of the decisions table by role (see :data:`DECISION_COLUMNS`)."""

    def __post_init__(self) -> None:
        if self.task is not None and self.task not in TASKS:
            raise ConfigError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if self.fail_on not in ("warn", "fail"):
            raise ConfigError(f"fail_on must be 'warn' or 'fail', not {self.fail_on!r}")
        for col, t in self.types.items():
            if t not in COLUMN_TYPES:
                raise ConfigError(
                    f"types.{col} must be one of {', '.join(COLUMN_TYPES)}, not {t!r}"
                )
        if self.model_card:
            from assay.governance import owner_fields

            owner_fields(self.model_card, source="model_card")  # validates field names
        decision_columns(self.decisions)  # validates roles and names
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer, not {self.seed!r}")
        if not (isinstance(self.confidence, float) and 0.5 <= self.confidence < 1):
            raise ConfigError(f"confidence must be a number in [0.5, 1), not {self.confidence!r}")
        if not isinstance(self.n_bootstrap, int) or self.n_bootstrap < 0:
            raise ConfigError(
                f"n_bootstrap must be a non-negative integer, not {self.n_bootstrap!r}"
            )

    def type_overrides(self) -> dict[str, ColumnType]:
        out = dict(self.types)
        out.update({c: "categorical" for c in self.categorical})
        out.update({c: "numeric" for c in self.numeric})
        return out

    def settings(self) -> AuditSettings:
        """The numbers that make a run reproducible, as the checks read them."""
        return AuditSettings(
            seed=self.seed,
            n_bootstrap=self.n_bootstrap,
            confidence=self.confidence,
            max_rows_model_checks=self.max_rows_model_checks,
            positive_label=self.positive_label,
            thresholds=self.thresholds,
        )

    @classmethod
    def resolve(cls, config: AuditConfig | Mapping[str, Any] | str | Path | None) -> AuditConfig:
        """``config`` as given to ``assay.audit`` or ``assay.drift.drift``: an
        :class:`AuditConfig`, a mapping of its fields, a YAML path, or ``None`` (defaults)."""
        if config is None:
            return cls()
        if isinstance(config, AuditConfig):
            return config
        if isinstance(config, Mapping):
            return cls.from_mapping(config)
        if isinstance(config, (str, Path)):
            return cls.from_file(config)
        raise ConfigError(
            f"config must be an AuditConfig, a mapping or a YAML path, not {config!r}"
        )

    def merged(self, **overrides: Any) -> AuditConfig:
        """A copy with the non-empty ``overrides`` applied (CLI flags win over the file)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for k, v in overrides.items():
            if v is None or (isinstance(v, (list, tuple, dict)) and not v):
                continue
            data[k] = list(v) if isinstance(v, tuple) else v
        return AuditConfig(**data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "config") -> AuditConfig:
        known = {f.name for f in fields(cls)}
        data = dict(data)
        checks = data.pop("checks", None)
        if checks is not None:
            if not isinstance(checks, Mapping):
                raise ConfigError(f"{source}: 'checks' must be a mapping with include/exclude")
            data.setdefault("include", checks.get("include", []))
            data.setdefault("exclude", checks.get("exclude", []))
            data.setdefault("enable", checks.get("enable", []))
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown field(s) {', '.join(unknown)}; "
                f"known fields are {', '.join(sorted(known | {'checks'}))}"
            )
        for key in (*_LIST_FIELDS, "include", "exclude"):
            if key in data and isinstance(data[key], str):
                data[key] = [data[key]]
            if key in data and not isinstance(data[key], list):
                raise ConfigError(f"{source}: field {key!r} must be a list of names")
        for key in ("types", "thresholds", "model_card", "decisions"):
            if key in data and not isinstance(data[key], Mapping):
                raise ConfigError(f"{source}: field {key!r} must be a mapping")
        decision_columns(data.get("decisions"), source=f"{source}: decisions")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> AuditConfig:
        return cls.from_mapping(read_yaml_mapping(path), source=f"config file {Path(path)}")
