"""Schema inference: each column is numeric, categorical, boolean, datetime,
text or identifier; the target and task are detected. Everything is
overridable.

Example
-------
>>> import polars as pl
>>> s = infer_schema(pl.DataFrame({"x": [1.5, 2.0, 3.1], "y": ["a", "b", "a"]}), target="y")
>>> s.types["x"], s.task
('numeric', 'binary')
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from assay.errors import ConfigError, SchemaError, TargetError

ColumnType = Literal["numeric", "categorical", "boolean", "datetime", "text", "identifier"]
Task = Literal["binary", "multiclass", "regression", "clustering", "anomaly"]
COLUMN_TYPES: tuple[ColumnType, ...] = (
    "numeric",
    "categorical",
    "boolean",
    "datetime",
    "text",
    "identifier",
)
TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression", "clustering", "anomaly")
UNSUPERVISED_TASKS: tuple[Task, ...] = ("clustering", "anomaly")
"""Tasks without a target to predict: the target is optional (for ``anomaly``, the
known anomaly labels; for ``clustering``, a column left out of the features)."""

_ID_NAME_HINTS = ("id", "uuid", "guid", "key", "index", "row", "record")


@dataclass(frozen=True)
class Schema:
    """Column types, the target, the task and which columns are model features."""

    types: Mapping[str, ColumnType]
    target: str | None
    task: Task | None
    features: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    prediction_columns: tuple[str, ...] = ()
    classes: tuple[Any, ...] = ()
    overridden: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "types": dict(self.types),
            "target": self.target,
            "task": self.task,
            "features": list(self.features),
            "ignored": list(self.ignored),
            "prediction_columns": list(self.prediction_columns),
            "classes": [c if isinstance(c, (int, float, str)) else str(c) for c in self.classes],
            "overridden": list(self.overridden),
        }


def _mean(s: pl.Series) -> float:
    """The mean of a numeric or boolean series; 0.0 when it is empty or all null."""
    m = s.mean()
    return float(m) if isinstance(m, (int, float)) else 0.0


def _looks_like_identifier(name: str, s: pl.Series) -> bool:
    n = s.len() - s.null_count()
    if n < 20:
        return False
    nunique = s.n_unique() - (1 if s.null_count() else 0)
    if nunique < 0.95 * n:
        return False
    lname = name.lower()
    name_hint = any(
        lname == h or lname.endswith(("_" + h, h.upper())) or lname.startswith(h + "_")
        for h in _ID_NAME_HINTS
    ) or lname.endswith("id")
    if s.dtype.is_integer():
        if name_hint:
            return True
        # A run of consecutive integers (a row counter) is an identifier.
        mn, mx = s.min(), s.max()
        return isinstance(mn, int) and isinstance(mx, int) and (mx - mn + 1) == nunique == n
    if s.dtype == pl.String:
        if name_hint:
            return True
        longest = s.drop_nulls().str.len_chars().max()
        # Short unique tokens with no spaces: codes, UUIDs, hashes.
        has_space = _mean(s.drop_nulls().str.contains(" "))
        return isinstance(longest, int) and longest <= 64 and has_space < 0.05
    return False


def infer_column_type(name: str, s: pl.Series) -> ColumnType:
    """Infer the :data:`ColumnType` of one column."""
    dt = s.dtype
    if dt == pl.Boolean:
        return "boolean"
    if dt.is_temporal():
        return "datetime"
    if dt == pl.Object or dt.is_nested() or dt == pl.Binary:
        return "categorical"
    if dt.is_numeric():
        mn, mx = s.min(), s.max()
        # Integers between 0 and 1 are only 0 and 1; floats need a look.
        if (
            mn is not None
            and mn in (0, 1)
            and mx in (0, 1)
            and (not dt.is_float() or s.drop_nulls().is_in([0.0, 1.0]).all())
        ):
            return "boolean"
        if dt.is_float():  # a float column is never a row identifier
            return "numeric"
        if _looks_like_identifier(name, s):
            return "identifier"
        return "numeric"
    non_null = s.drop_nulls()
    nunique = non_null.n_unique()
    if dt in (pl.String, pl.Categorical, pl.Enum):
        if dt != pl.String:
            return "categorical"
        lowered = set(v.lower() for v in non_null.unique().to_list()[:3]) if nunique <= 2 else None
        if lowered and lowered <= {"true", "false", "yes", "no", "y", "n", "t", "f"}:
            return "boolean"
        n = non_null.len()
        if n and _looks_like_identifier(name, s):
            return "identifier"
        if n:
            mean_len = _mean(non_null.str.len_chars())
            words = _mean(non_null.str.count_matches(" "))
            if nunique > max(50, 0.5 * n) and (mean_len > 30 or words >= 3):
                return "text"
        return "categorical"
    if dt == pl.Null:
        return "numeric"
    return "categorical"


def infer_task(y: pl.Series, column_type: ColumnType) -> Task:
    """Infer the task from the target column."""
    non_null = y.drop_nulls()
    nunique = non_null.n_unique()
    if column_type in ("boolean", "categorical", "text", "identifier") or nunique <= 2:
        return "binary" if nunique <= 2 else "multiclass"
    if y.dtype.is_integer() and nunique <= 20:
        return "multiclass"
    if y.dtype.is_float() and nunique <= 20 and (non_null == non_null.round(0)).all():
        return "multiclass"
    return "regression"


def suggest(name: str, options: Iterable[str]) -> str:
    """A 'did you mean' suffix for an unknown column name."""
    opts = list(options)
    near = difflib.get_close_matches(name, opts, n=3, cutoff=0.5)
    if not near:
        near = [o for o in opts if name.lower() in o.lower() or o.lower() in name.lower()][:3]
    return f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""


def check_target(
    df: pl.DataFrame,
    target: str,
    *,
    task: Task | None,
    column_type: ColumnType,
    name: str,
) -> tuple[Task, tuple[Any, ...]]:
    """Validate the target column of ``df``; return the task and sorted classes.

    Raises
    ------
    TargetError
        Missing values, a single class, or a type that does not fit the task.
    """
    if target not in df.columns:
        near = suggest(target, df.columns)
        raise TargetError(f"target column {target!r} is not in {name}.{near}")
    y = df.get_column(target)
    n_missing = y.null_count()
    if y.dtype.is_float():
        n_missing += int(y.is_nan().sum())
    if n_missing:
        raise TargetError(
            f"target column {target!r} in {name} has {n_missing} missing value(s); "
            "drop or fill those rows first"
        )
    task = task or infer_task(y, column_type)
    classes: tuple[Any, ...] = ()
    if task in ("binary", "multiclass"):
        classes = tuple(sorted(y.unique().to_list(), key=lambda v: (str(type(v)), v)))
        if len(classes) < 2:
            raise TargetError(
                f"target column {target!r} in {name} has one class only ({classes[0]!r}); "
                "a classifier needs at least two"
            )
        if task == "binary" and len(classes) > 2:
            raise TargetError(
                f"target column {target!r} has {len(classes)} classes but task is binary; "
                "use --task multiclass"
            )
    elif not y.dtype.is_numeric():
        raise TargetError(
            f"target column {target!r} is {y.dtype} but task is regression; "
            "a regression target must be numeric"
        )
    elif y.n_unique() < 2:
        raise TargetError(f"target column {target!r} in {name} is constant")
    return task, classes


def infer_schema(
    df: pl.DataFrame,
    *,
    target: str | None,
    task: Task | None = None,
    overrides: Mapping[str, ColumnType] | None = None,
    ignore: Iterable[str] = (),
    prediction_columns: Iterable[str] = (),
    name: str = "test",
) -> Schema:
    """Infer the schema of ``df``; overrides win over inference.

    Raises
    ------
    TargetError
        The target is absent (with near matches), has missing values, or
        has a single class.
    SchemaError
        An override or ignore names a column that does not exist.
    """
    overrides = dict(overrides or {})
    ignore = tuple(ignore)
    prediction_columns = tuple(prediction_columns)
    for col in [*overrides, *ignore, *prediction_columns]:
        if col not in df.columns:
            raise SchemaError(
                f"column {col!r} named in the options is not in {name}.{suggest(col, df.columns)}"
            )
    for col, ctype in overrides.items():
        if ctype not in COLUMN_TYPES:
            raise ConfigError(
                f"column type for {col!r} must be one of {', '.join(COLUMN_TYPES)}, not {ctype!r}"
            )
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, not {task!r}")

    types: dict[str, ColumnType] = {}
    for col in df.columns:
        types[col] = overrides.get(col) or infer_column_type(col, df.get_column(col))

    classes: tuple[Any, ...] = ()
    if target is not None:
        if target not in df.columns:
            raise TargetError(
                f"target column {target!r} is not in {name}.{suggest(target, df.columns)}"
            )
        if types[target] == "identifier":
            y = df.get_column(target)
            types[target] = "categorical" if y.dtype == pl.String else "numeric"
        if task in UNSUPERVISED_TASKS:
            if task == "anomaly":  # known labels: two values, the anomaly one last or named
                _, classes = check_target(
                    df, target, task="binary", column_type="categorical", name=name
                )
        else:
            task, classes = check_target(
                df, target, task=task, column_type=types[target], name=name
            )

    skip = {target, *ignore, *prediction_columns}
    features = tuple(c for c in df.columns if c not in skip)
    return Schema(
        types=types,
        target=target,
        task=task,
        features=features,
        ignored=ignore,
        prediction_columns=prediction_columns,
        classes=classes,
        overridden=tuple(overrides),
    )
