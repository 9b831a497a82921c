"""The audit context: everything a check may read, prepared once.

Checks never read files: they read frames, the schema and predictions from
here. Predictions are computed once per split and cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from assay.io.models import ModelAdapter, Prediction
from assay.io.readers import TableSource
from assay.io.schema import Schema

if TYPE_CHECKING:
    from assay.engine import Engine
    from assay.engine._audit import AuditEngine

Split = Literal["train", "test", "current"]


@dataclass
class AuditSettings:
    """Numbers that make an audit reproducible."""

    seed: int = 0
    n_bootstrap: int = 500
    confidence: float = 0.95
    max_rows_model_checks: int = 200_000
    positive_label: Any = None
    thresholds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "n_bootstrap": self.n_bootstrap,
            "confidence": self.confidence,
            "max_rows_model_checks": self.max_rows_model_checks,
            "positive_label": self.positive_label,
            "thresholds": {k: dict(v) for k, v in self.thresholds.items()},
        }


@dataclass
class AuditContext:
    """Inputs of one audit, read-only for checks.

    Attributes
    ----------
    frames
        ``{"train": ..., "test": ..., "current": ...}``, the splits given.
    schema
        Column types, target, task, features and classes.
    model
        A :class:`ModelAdapter`, or ``None`` when predictions are given as
        columns (``prediction_column``/``score_columns``) or not at all.
    """

    frames: dict[str, pl.DataFrame]
    sources: dict[str, TableSource]
    schema: Schema
    settings: AuditSettings
    model: ModelAdapter | None = None
    prediction_column: str | None = None
    score_columns: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    decisions: pl.DataFrame | None = None
    """Reviewed cases (``decisions=``, ``--decisions``), for ``monitoring.human_oversight``."""
    decision_columns: Mapping[str, str] = field(default_factory=dict)
    """Column of each role (prediction, decision, label, reviewer, seconds) in ``decisions``."""
    engine: Engine | None = None
    """The drift engine (reference against current) that ``drift.*`` checks read summaries
    from: set by ``assay.drift.drift`` on Parquet or Dask and by a Dask audit; ``None``
    for an in-memory :class:`~assay.engine.LocalEngine` over the frames
    (:func:`assay.engine.engine_for`)."""
    data_engine: AuditEngine | None = None
    """The engine the data checks read per-split summaries from: set by a Dask audit;
    ``None`` for a :class:`~assay.engine._audit.LocalAuditEngine` over the frames
    (:func:`assay.engine._audit.audit_engine`)."""
    _pred_cache: dict[str, Prediction] = field(default_factory=dict, repr=False)

    # -- data access ---------------------------------------------------------
    @property
    def task(self) -> str | None:
        return self.schema.task

    @property
    def target(self) -> str | None:
        return self.schema.target

    @property
    def target_column(self) -> str:
        """The target's name, for checks of supervised tasks (whose schema always has one)."""
        if self.schema.target is None:
            raise ValueError(f"a {self.task} audit has no target column")
        return self.schema.target

    @property
    def classes(self) -> list[Any]:
        return list(self.schema.classes)

    @property
    def positive_class(self) -> Any:
        """For binary tasks, the class whose probability is the score."""
        if self.task != "binary":
            return None
        pos = self.settings.positive_label
        if pos is not None:
            for c in self.classes:
                if str(c) == str(pos):
                    return c
        return self.classes[-1]

    def has(self, split: str) -> bool:
        return split in self.frames

    def frame(self, split: str) -> pl.DataFrame:
        return self.frames[split]

    def features(self, split: str) -> pl.DataFrame:
        """Feature columns of ``split`` (no target, ignored or prediction columns)."""
        df = self.frames[split]
        return df.select([c for c in self.schema.features if c in df.columns])

    def labels(self, split: str) -> np.ndarray | None:
        """Target values of ``split``, or ``None`` when the split has no target."""
        df = self.frames[split]
        if self.target is None or self.target not in df.columns:
            return None
        return df.get_column(self.target).to_numpy()

    # -- predictions ---------------------------------------------------------
    @property
    def has_predictions(self) -> bool:
        return (
            self.model is not None or self.prediction_column is not None or bool(self.score_columns)
        )

    @property
    def has_scores(self) -> bool:
        if self.task not in ("binary", "multiclass"):
            return False
        if self.model is not None:
            return self.model.describe()["has_predict_proba"]
        return bool(self.score_columns)

    def can_predict(self, split: str) -> bool:
        if self.model is not None:
            return True
        df = self.frames.get(split)
        if df is None:
            return False
        cols = [self.prediction_column, *self.score_columns]
        return any(c is not None for c in cols) and all(
            c in df.columns for c in cols if c is not None
        )

    def predictions(self, split: str) -> Prediction:
        """Predictions for ``split`` from the model or the prediction columns."""
        if split in self._pred_cache:
            return self._pred_cache[split]
        if self.model is not None:
            classes = self.classes if self.task in ("binary", "multiclass") else None
            pred = self.model.predict(self.features(split), classes)
        else:
            pred = self._from_columns(split)
        self._pred_cache[split] = pred
        return pred

    def _from_columns(self, split: str) -> Prediction:
        df = self.frames[split]
        proba = None
        if self.score_columns and self.task in ("binary", "multiclass"):
            scores = df.select(self.score_columns).cast(pl.Float64).to_numpy()
            if self.task == "binary" and scores.shape[1] == 1:
                pos = self.classes.index(self.positive_class)
                p = scores[:, 0]
                proba = np.column_stack([1 - p, p]) if pos == 1 else np.column_stack([p, 1 - p])
            else:
                proba = scores
        if self.prediction_column is not None:
            labels = df.get_column(self.prediction_column).to_numpy()
        elif proba is not None:
            labels = np.asarray(self.classes, dtype=object)[np.argmax(proba, axis=1)]
            labels = np.asarray(labels.tolist())
        else:  # pragma: no cover - guarded by can_predict
            raise ValueError("no predictions available")
        return Prediction(labels=labels, proba=proba)
