"""The workbench's inputs: uploaded tables read under caps, their inferred schema with
suggestions, the audit spec validated, and the seeded split of one file.

Every cap is checked before the work it guards: rows are counted from the CSV's
line breaks or the Parquet footer before a table is parsed; columns from the
header; an ``.xlsx`` file's unpacked size from its zip directory before the
workbook is opened. Spreadsheets are read with openpyxl in read-only mode, never
evaluating anything: a cell holding a formula is refused (naming the cell), so a
number an audit uses is never a value a formula's author had cached.
"""

from __future__ import annotations

import difflib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl

from assay.errors import InputError

__all__ = [
    "Caps",
    "UploadError",
    "infer_schema",
    "read_upload",
    "split_frame",
    "suggest",
    "validate_spec",
]

TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".xlsx")
MODEL_SUFFIXES = (".skops", ".onnx")
TASKS = ("binary", "multiclass", "regression")


class UploadError(InputError):
    """A bad upload or spec: ``status`` (413 or 422), the ``field`` it concerns."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.status = field, status


@dataclass(frozen=True)
class Caps:
    """The workbench's limits (the operator's ``workbench:`` settings)."""

    max_upload_bytes: int = 64 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 1_000
    max_unpacked_bytes: int = 512 * 1024 * 1024
    """An ``.xlsx`` file's contents once unzipped."""


def table_suffix(name: str) -> str | None:
    low = name.lower()
    return next((s for s in TABLE_SUFFIXES if low.endswith(s)), None)


def _count_lines(path: Path, gz: bool) -> int:
    import gzip

    opener = gzip.open if gz else open
    n, last = 0, b"\n"
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _check_shape(field: str, rows: int, columns: int, caps: Caps) -> None:
    if rows > caps.max_rows:
        raise UploadError(
            field, f"has more than {caps.max_rows:,} rows; send a sample or ask the operator", 413
        )
    if columns > caps.max_columns:
        raise UploadError(field, f"has {columns:,} columns; the limit is {caps.max_columns:,}", 413)


def _read_xlsx(path: Path, field: str, caps: Caps) -> pl.DataFrame:
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise UploadError(field, "is not an .xlsx workbook (not a zip archive)") from None
    if unpacked > caps.max_unpacked_bytes:
        raise UploadError(
            field, f"unpacks to {unpacked:,} bytes, over {caps.max_unpacked_bytes:,}", 413
        )
    try:
        import openpyxl
        from openpyxl.utils import get_column_letter
    except ImportError:  # pragma: no cover - the extra is installed with [all]
        raise UploadError(
            field, "reading .xlsx needs openpyxl: pip install 'assay[workbench]'"
        ) from None
    fh = open(path, "rb")  # noqa: SIM115 - closed below; a file object: no name check
    try:  # read-only, formulas kept as text (never evaluated, never their cached values)
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    except Exception as exc:
        fh.close()
        raise UploadError(
            field, f"could not be read as a workbook ({type(exc).__name__})"
        ) from None
    try:
        ws = wb.worksheets[0]
        if (ws.max_column or 0) > caps.max_columns:
            _check_shape(field, 0, ws.max_column, caps)
        rows: list[tuple[Any, ...]] = []
        for r, row in enumerate(ws.iter_rows(), 1):
            if r > caps.max_rows + 1:
                _check_shape(field, r, 0, caps)
            values = []
            for c, cell in enumerate(row, 1):
                if getattr(cell, "data_type", None) == "f":
                    where = f"{ws.title}!{get_column_letter(c)}{r}"
                    raise UploadError(
                        field,
                        f"cell {where} holds a formula; Assay never evaluates spreadsheet "
                        "formulas: save the sheet with values only (Paste Special > Values)",
                    )
                values.append(cell.value)
            rows.append(tuple(values))
    finally:
        wb.close()
        fh.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        raise UploadError(field, "is empty: the first sheet has no rows")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    _check_shape(field, len(rows) - 1, len(header), caps)
    if any(h == "" for h in header):
        raise UploadError(field, "has a column without a name in its first row")
    if len(set(header)) != len(header):
        raise UploadError(field, "has two columns with the same name in its first row")
    cols: dict[str, list[Any]] = {h: [] for h in header}
    for record in rows[1:]:
        for i, h in enumerate(header):
            v = record[i] if i < len(record) else None
            cols[h].append(v.isoformat() if v is not None and hasattr(v, "isoformat") else v)
    series = []
    for h, vals in cols.items():
        kinds = {type(v) for v in vals if v is not None}
        if kinds <= {int, bool} and bool not in kinds:
            series.append(pl.Series(h, vals, dtype=pl.Int64))
        elif kinds <= {int, float}:
            series.append(pl.Series(h, vals, dtype=pl.Float64))
        else:
            series.append(pl.Series(h, [None if v is None else str(v) for v in vals], pl.Utf8))
    return pl.DataFrame(series)


def read_upload(path: Path, original_name: str, field: str, caps: Caps) -> pl.DataFrame:
    """The table in an uploaded file, its shape checked against ``caps`` first.

    Raises :class:`UploadError` (a 4xx answer) for an unknown format, an empty
    file, too many rows or columns, a formula cell, or a table Assay cannot read.
    """
    from assay.io.readers import read_table

    suffix = table_suffix(original_name)
    if suffix is None:
        raise UploadError(
            field, f"{original_name!r} is not CSV, Parquet or .xlsx (the file name's ending)"
        )
    if path.stat().st_size == 0:
        raise UploadError(field, f"{original_name!r} is empty")
    if suffix == ".xlsx":
        df = _read_xlsx(path, field, caps)
    else:
        if suffix == ".parquet":
            try:
                lazy = pl.scan_parquet(path)
                rows = lazy.select(pl.len()).collect().item()
                _check_shape(field, rows, len(lazy.collect_schema()), caps)
            except UploadError:
                raise
            except Exception:
                raise UploadError(
                    field, f"{original_name!r} is not a readable Parquet file"
                ) from None
        else:
            _check_shape(field, _count_lines(path, suffix == ".csv.gz") - 1, 0, caps)
        named = path.with_name(path.name + suffix)  # the readers choose by the ending
        path.rename(named)
        try:
            df, _ = read_table(named, name=field)
        except InputError as exc:
            raise UploadError(field, str(exc).replace(str(named), repr(original_name))) from None
        finally:
            named.rename(path)
    if df.height == 0:
        raise UploadError(field, f"{original_name!r} has a header but no rows")
    _check_shape(field, df.height, df.width, caps)
    if df.width < 2:
        raise UploadError(
            field, f"{original_name!r} has one column; an audit needs a target and a feature"
        )
    return df


# -- schema and suggestions -----------------------------------------------------

_TARGET_NAMES = re.compile(
    r"^(target|label|labels|y|class|outcome|income|churn|churned|default|defaulted|fraud|"
    r"is_fraud|survived|response|result|approved|price)$",
    re.I,
)
_SENSITIVE_NAMES = re.compile(
    r"(^|_)(sex|gender|race|ethnic\w*|age|religion|marital\w*|nationality|native\w*|"
    r"disab\w*|pregnan\w*|orientation|citizenship)(_|$)",
    re.I,
)
_SENSITIVE_VALUES = {"male", "female", "man", "woman", "non-binary", "white", "black", "asian"}
_IGNORE_NAMES = re.compile(r"^(id|index|row|row_id|uuid|split|fold|unnamed: ?0)$", re.I)


def _kind(s: pl.Series) -> str:
    if s.dtype == pl.Boolean:
        return "boolean"
    if s.dtype.is_numeric():
        return "numeric"
    if s.dtype.is_temporal():
        return "datetime"
    return "categorical" if s.n_unique() <= max(50, s.len() // 20) else "text"


def infer_schema(df: pl.DataFrame, examples: int = 3) -> list[dict[str, Any]]:
    """Each column's name, kind, distinct count, missing share and a few values."""
    out = []
    for name in df.columns:
        s = df[name]
        values = s.drop_nulls().unique(maintain_order=True).head(examples).to_list()
        out.append(
            {
                "name": name,
                "kind": _kind(s),
                "distinct": int(s.n_unique()),
                "missing_share": float(s.null_count() / max(s.len(), 1)),
                "examples": [str(v)[:40] for v in values],
            }
        )
    return out


def task_of(s: pl.Series) -> str:
    n = s.drop_nulls().n_unique()
    if s.dtype.is_numeric() and s.dtype != pl.Boolean and n > 20:
        return "regression"
    return "binary" if n <= 2 else "multiclass"


def suggest(df: pl.DataFrame) -> dict[str, Any]:
    """Suggestions only (the person confirms each): a target (a column named like
    one, else the last column with 2-20 values), its task, sensitive attributes
    (by name or by values such as 'female'), and columns to ignore (ids, 'split')."""
    cols = df.columns
    target = next((c for c in cols if _TARGET_NAMES.match(c)), None)
    if target is None:
        target = next(
            (c for c in reversed(cols) if 2 <= df[c].drop_nulls().n_unique() <= 20), cols[-1]
        )
    sensitive = []
    for c in cols:
        if c == target:
            continue
        if _SENSITIVE_NAMES.search(c):
            sensitive.append(c)
        elif not df[c].dtype.is_numeric():
            vals = {str(v).strip().lower() for v in df[c].drop_nulls().unique().head(50)}
            if vals & _SENSITIVE_VALUES:
                sensitive.append(c)
    ignore = [
        c
        for c in cols
        if c != target
        and (
            _IGNORE_NAMES.match(c)
            or (not df[c].dtype.is_numeric() and df[c].n_unique() == df.height > 50)
        )
    ]
    return {"target": target, "task": task_of(df[target]), "sensitive": sensitive, "ignore": ignore}


# -- the spec -------------------------------------------------------------------

SPEC_KEYS = {
    "target": str,
    "task": str,
    "sensitive": list,
    "ignore": list,
    "prediction": str,
    "score": list,
    "model": str,
    "seed": int,
    "n_bootstrap": int,
    "test_share": float,
    "positive_label": str,
    "name": str,
}


def _columns(spec: dict[str, Any], key: str, columns: list[str]) -> None:
    value = spec.get(key)
    names = [value] if isinstance(value, str) else list(value or [])
    for name in names:
        if not isinstance(name, str) or name not in columns:
            near = difflib.get_close_matches(str(name), columns, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise UploadError(f"spec.{key}", f"no column {name!r} in the data{hint}")


def validate_spec(raw: Any, columns: list[str], *, have_model_file: bool) -> dict[str, Any]:
    """The spec as a clean dict; :class:`UploadError` naming the field otherwise."""
    if not isinstance(raw, dict):
        raise UploadError("spec", 'must be a JSON object such as {"target": "income"}')
    spec: dict[str, Any] = {}
    for key, value in raw.items():
        kind = SPEC_KEYS.get(key)
        if kind is None:
            near = difflib.get_close_matches(key, list(SPEC_KEYS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise UploadError(f"spec.{key}", f"unknown field{hint}")
        if value is None:
            continue
        if key == "score" and isinstance(value, str):
            value = [value]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise UploadError(f"spec.{key}", f"must be {kind.__name__}, got {value!r}")
        spec[key] = value
    if not spec.get("target"):
        raise UploadError("spec.target", "is required: the column the model predicts")
    if len(spec.get("name") or "") > 200:
        raise UploadError("spec.name", "the model's name is at most 200 characters")
    for key in ("target", "sensitive", "ignore", "prediction", "score"):
        _columns(spec, key, columns)
    if spec.get("task") is not None and spec["task"] not in TASKS:
        raise UploadError("spec.task", f"must be one of {', '.join(TASKS)}")
    model = spec.get("model")
    if model is not None and model != "reference":
        raise UploadError("spec.model", "must be 'reference' (or leave it out)")
    if model == "reference" and (have_model_file or spec.get("prediction") or spec.get("score")):
        raise UploadError("spec.model", "'reference' cannot go with a model file or columns")
    if have_model_file and (spec.get("prediction") or spec.get("score")):
        raise UploadError("spec.prediction", "give a model file or prediction columns, not both")
    if not 50 <= spec.setdefault("n_bootstrap", 200) <= 1000:
        raise UploadError("spec.n_bootstrap", "must be between 50 and 1000")
    if not 0.1 <= spec.setdefault("test_share", 0.3) <= 0.5:
        raise UploadError("spec.test_share", "must be between 0.1 and 0.5")
    spec.setdefault("seed", 0)
    return spec


def check_target(df: pl.DataFrame, spec: dict[str, Any], field: str) -> str:
    """The task (given or inferred); refuses a target with one value or all missing."""
    s = df[spec["target"]]
    n = s.drop_nulls().n_unique()
    if n < 2:
        raise UploadError(
            "spec.target",
            f"column {spec['target']!r} in {field} has {n} distinct value(s); a model needs "
            "at least two classes or values to be audited",
        )
    task = spec.get("task") or task_of(s)
    if task == "binary" and n > 2:
        raise UploadError("spec.task", f"binary, but {spec['target']!r} has {n} values")
    return task


# -- one file split in two ------------------------------------------------------


def split_frame(
    df: pl.DataFrame, target: str, task: str, *, seed: int, test_share: float
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Train and test from one table: stratified by the target for classification
    (when every class has at least two rows), seeded; and the record of the split."""
    from sklearn.model_selection import train_test_split

    df = df.filter(pl.col(target).is_not_null())
    idx = list(range(df.height))
    y = df[target].to_list()
    counts = df[target].value_counts()["count"]
    # The counts column is an integer one: its min is an int.
    stratified = task != "regression" and cast(int, counts.min()) >= 2
    tr, te = train_test_split(
        idx, test_size=test_share, random_state=seed, stratify=y if stratified else None
    )
    record = {
        "method": "stratified by target" if stratified else "random",
        "test_share": test_share,
        "seed": seed,
        "rows_with_target": df.height,
        "train_rows": len(tr),
        "test_rows": len(te),
        "by": "sklearn.model_selection.train_test_split",
    }
    return df[sorted(tr)], df[sorted(te)], record
