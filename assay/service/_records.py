"""Turn request bodies into validated rows for the store; a batch is valid whole or not at all.

>>> from assay.service._records import parse_timestamp
>>> parse_timestamp("1970-01-01T00:01:00Z")
60.0
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from collections.abc import Callable
from typing import Any

import polars as pl

MAX_ERRORS = 50
ID_MAX = 200
MAX_FEATURES = 1000
"""The most feature fields one record (or a reference table) may carry."""
MAX_ROWS = 100_000
"""The most records (table rows) one request may carry by default; the service's
``Settings.max_rows_per_request`` (default 100,000) is passed in as ``max_rows``."""
OBJECTS_PER_RECORD = 4
"""A JSON body with more ``{`` than this many per allowed record (a record and its
``features`` are two) is refused before parsing: millions of tiny objects in a few
megabytes cost gigabytes once parsed."""
TIMESTAMP_MIN = 0.0
"""The earliest timestamp accepted: 1970-01-01T00:00:00Z (seconds since the epoch)."""
TIMESTAMP_MAX = 7_289_654_399.999999
"""The latest timestamp accepted: 2200-12-31T23:59:59.999999Z (years 1970 to 2200
inclusive), so every stored time has a calendar date and windows can name it."""
_TS_RANGE = "between 1970-01-01 and 2200-12-31 (0 to 7289654399 seconds since the epoch)"
PARQUET_TYPES = (
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/parquet",
    "application/octet-stream",
)
ARROW_TYPES = ("application/vnd.apache.arrow.stream",)
"""An Arrow IPC stream body (``pyarrow.ipc.new_stream``, ``polars.DataFrame.write_ipc_stream``)."""


class RecordsError(ValueError):
    """One or more records are invalid; ``errors`` names each record and field."""

    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        self.errors = errors
        self.total = total
        first = errors[0]
        super().__init__(
            f"{total} invalid record(s); the batch was not stored. First: record "
            f"{first['record']}, field {first['field']!r}: {first['message']}"
        )


class BodyError(ValueError):
    """A body that cannot be read at all (not JSON/CSV/Parquet, wrong shape)."""


class TooManyRows(BodyError):
    """A body with more than ``limit`` records, refused before its rows are built."""

    def __init__(self, limit: int, rows: int | None = None) -> None:
        self.limit, self.rows = limit, rows
        found = f"{rows:,} rows" if rows is not None else f"more than {limit:,} rows"
        super().__init__(
            f"the body has {found}; at most {limit:,} are accepted per request "
            "(send smaller batches)"
        )


def in_range(ts: float) -> bool:
    """Whether ``ts`` (seconds since the epoch) lies in years 1970 to 2200.

    >>> in_range(0.0), in_range(7289654399.0), in_range(4e11), in_range(float("nan"))
    (True, True, False, False)
    """
    return TIMESTAMP_MIN <= ts <= TIMESTAMP_MAX


def _checked(ts: float) -> float:
    if not in_range(ts):
        raise ValueError(f"must be {_TS_RANGE}, not {ts!r}")
    return ts


def parse_timestamp(value: Any) -> float:
    """Seconds since the epoch from a number, an ISO-8601 string or a datetime (UTC if
    naive)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be an ISO-8601 string or seconds since the epoch")
    if isinstance(value, (int, float)):
        try:
            value = float(value)
        except OverflowError as exc:  # an int too large for a float
            raise ValueError(f"must be {_TS_RANGE}") from exc
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return _checked(value)
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from exc
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return _checked(value.timestamp())
    raise ValueError("must be an ISO-8601 string or seconds since the epoch")


def _scalar_ok(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _too_wide(width: int, max_columns: int | None) -> None:
    if max_columns is not None and width > max_columns:
        raise BodyError(
            f"the table has {width} columns; at most {max_columns} are accepted "
            f"({MAX_FEATURES} features and the record fields)"
        )


def _csv_header_width(body: bytes) -> int:
    """The number of columns the CSV header names (its first line), read without
    building the table."""
    import csv

    end = body.find(b"\n")
    first = (body if end < 0 else body[:end]).decode("utf-8", errors="replace")
    return len(next(csv.reader([first]), []))


def _parquet_shape(body: bytes) -> tuple[int, int]:
    """``(rows, leaf columns)`` from a Parquet body's footer, before any page is read."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(io.BytesIO(body))
    return meta.num_rows, meta.num_columns


def _arrow_frame(body: bytes, max_rows: int, max_columns: int | None) -> pl.DataFrame:
    """A frame from an Arrow IPC stream: the schema's width is checked first, and the
    record batches are counted as they are read (no copy of their buffers)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    reader = ipc.open_stream(pa.py_buffer(body))
    _too_wide(len(reader.schema), max_columns)
    batches, rows = [], 0
    for batch in reader:
        rows += batch.num_rows
        if rows > max_rows:
            raise TooManyRows(max_rows)
        batches.append(batch)
    frame = pl.from_arrow(pa.Table.from_batches(batches, schema=reader.schema))
    assert isinstance(frame, pl.DataFrame)
    return frame


def frame_from_body(
    body: bytes,
    content_type: str,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int | None = None,
) -> pl.DataFrame:
    """A frame from a CSV, Parquet or Arrow IPC stream body; :class:`TooManyRows` past
    ``max_rows`` and :class:`BodyError` past ``max_columns``, both decided before the
    rows are built (the Parquet footer's counts; the Arrow schema, then batch by batch;
    the CSV header, and at most ``max_rows + 1`` rows read)."""
    csv = content_type.startswith("text/csv")
    arrow = content_type in ARROW_TYPES
    try:
        if arrow:
            return _arrow_frame(body, max_rows, max_columns)
        if csv:
            _too_wide(_csv_header_width(body), max_columns)
            df = pl.read_csv(io.BytesIO(body), infer_schema_length=10_000, n_rows=max_rows + 1)
            if df.height > max_rows:
                raise TooManyRows(max_rows)
            return df
        rows, width = _parquet_shape(body)
        _too_wide(width, max_columns)
        if rows > max_rows:
            raise TooManyRows(max_rows, rows)
        return pl.read_parquet(io.BytesIO(body))
    except BodyError:
        raise
    except Exception as exc:  # polars and pyarrow raise many kinds for a bad file
        kind = "CSV" if csv else "Arrow IPC stream" if arrow else "Parquet"
        raise BodyError(f"the body is not readable {kind}: {exc}") from exc


def _loads(body: bytes) -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson comes with the service extra
        return json.loads(body)
    return orjson.loads(body)


def _dumps(value: Any) -> str:
    """Compact JSON text; the standard library for what orjson refuses (huge ints)."""
    try:
        import orjson

        return orjson.dumps(value).decode()
    except (ImportError, TypeError):
        return json.dumps(value)


def records_from_body(
    body: bytes, content_type: str, *, fields: tuple[str, ...], max_rows: int = MAX_ROWS
) -> list[Any]:
    """Records from a JSON ``{"records": [...]}`` body, or a CSV/Parquet table whose
    columns ``fields`` are record fields and the rest go under ``features``; at most
    ``max_rows`` of them (:class:`TooManyRows`)."""
    out = body_records(body, content_type, fields=fields, max_rows=max_rows)
    return out if isinstance(out, list) else out.records()


class TableRecords:
    """A CSV/Parquet batch kept as a frame, so predictions are validated column-wise;
    ``records()`` gives the per-record dicts the detailed validator names errors from."""

    def __init__(self, df: pl.DataFrame, fields: tuple[str, ...]) -> None:
        self.df, self.fields = df, fields
        self.named = [c for c in fields if c in df.columns]
        self.rest = [c for c in df.columns if c not in fields]

    def __len__(self) -> int:
        return self.df.height

    def records(self) -> list[dict[str, Any]]:
        out = []
        for row in self.df.iter_rows(named=True):
            rec = {c: row[c] for c in self.named}
            if "features" in self.fields:
                rec["features"] = {c: row[c] for c in self.rest}
            out.append(rec)
        return out


def body_records(
    body: bytes, content_type: str, *, fields: tuple[str, ...], max_rows: int = MAX_ROWS
) -> list[Any] | TableRecords:
    """Like :func:`records_from_body`, but a CSV/Parquet table stays a frame."""
    ct = content_type.split(";")[0].strip().lower()
    if ct == "application/json" or ct.endswith("+json"):
        objects = body.count(b"{")  # memchr speed: before a single value is built
        if objects > OBJECTS_PER_RECORD * max_rows + 1:
            raise TooManyRows(max_rows, objects // OBJECTS_PER_RECORD)
        try:
            doc = _loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BodyError(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
            raise BodyError('the JSON body must be an object {"records": [...]}')
        if len(doc["records"]) > max_rows:
            raise TooManyRows(max_rows, len(doc["records"]))
        return doc["records"]
    if ct == "text/csv" or ct in PARQUET_TYPES or ct in ARROW_TYPES:
        df = frame_from_body(body, ct, max_rows=max_rows, max_columns=MAX_FEATURES + len(fields))
        return TableRecords(df, fields)
    raise BodyError(
        f"unsupported content type {content_type!r}; send application/json, text/csv, "
        "application/vnd.apache.parquet or application/vnd.apache.arrow.stream"
    )


def _record_id(rec: dict[str, Any]) -> str:
    rid = rec.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        raise ValueError("must be a string or an integer")
    rid = str(rid)
    if not rid or len(rid) > ID_MAX:
        raise ValueError(f"must be 1 to {ID_MAX} characters")
    return rid


_RECORD_KEYS = frozenset({"id", "timestamp", "features", "prediction", "score"})
_NONE = type(None)
_SCALARS = frozenset({str, int, float, bool, _NONE})
_NUMBERS = frozenset({int, float, _NONE})


class _Slow(Exception):
    """The fast path cannot vouch for the batch: the per-record validator decides."""


def _all_finite(values: list[Any]) -> bool:
    try:
        return all(map(math.isfinite, [v for v in values if v is not None]))
    except OverflowError:  # an int too large for a float
        return False


def _dumps_all(values: list[Any]) -> list[str]:
    try:
        import orjson
    except ImportError:  # pragma: no cover
        return [json.dumps(v) for v in values]
    dumps = orjson.dumps
    try:
        return [dumps(v).decode() for v in values]
    except TypeError:
        return [_dumps(v) for v in values]


def _ids(ids: list[Any]) -> list[str]:
    kinds = set(map(type, ids))
    if not kinds <= {str, int}:
        raise _Slow
    if kinds != {str}:
        ids = list(map(str, ids))
    lens = list(map(len, ids))
    if min(lens) < 1 or max(lens) > ID_MAX:
        raise _Slow
    return ids


def _timestamps(ts: list[Any]) -> list[float]:
    kinds = set(map(type, ts))
    if kinds <= {int, float}:
        if not _all_finite(ts) or not (in_range(min(ts)) and in_range(max(ts))):
            raise _Slow
        return list(map(float, ts))
    try:
        return list(map(parse_timestamp, ts))
    except ValueError as exc:
        raise _Slow from exc


def _fast_json_rows(
    records: list[Any], columns: set[str], features: list[str], numeric: set[str]
) -> list[tuple[Any, ...]]:
    """Column-wise checks of JSON records; :class:`_Slow` on anything it would reject."""
    if set(map(type, records)) != {dict}:
        raise _Slow
    for keys in {tuple(r) for r in records}:
        if not _RECORD_KEYS.issuperset(keys) or "id" not in keys or "features" not in keys:
            raise _Slow
    ids = _ids([r["id"] for r in records])
    ts = _timestamps([r.get("timestamp") for r in records])
    feats = [r["features"] for r in records]
    if set(map(type, feats)) != {dict}:
        raise _Slow
    names: set[str] = set()
    for keys in {tuple(f) for f in feats}:
        ks = set(keys)
        if len(ks) > MAX_FEATURES or not ks <= columns or not ks.issuperset(features):
            raise _Slow
        names |= ks
    for name in names:
        col = [f.get(name) for f in feats]
        kinds = set(map(type, col))
        if name in numeric:
            if not kinds <= _NUMBERS or (float in kinds and not _all_finite(col)):
                raise _Slow
        elif not kinds <= _SCALARS:
            raise _Slow
    preds = [r.get("prediction") for r in records]
    pred_kinds = set(map(type, preds))
    if not pred_kinds <= _SCALARS:
        raise _Slow
    scores = [r.get("score") for r in records]
    if not set(map(type, scores)) <= _NUMBERS or not _all_finite(scores):
        raise _Slow
    # integer labels (the usual prediction) are their own JSON text
    pred_json = list(map(str, preds)) if pred_kinds == {int} else _dumps_all(preds)
    return list(zip(ids, ts, _dumps_all(feats), pred_json, scores, strict=True))


def _num_dtype(dt: pl.DataType) -> bool:
    return dt.is_integer() or dt.is_float() or dt == pl.Null


def _scalar_dtype(dt: pl.DataType) -> bool:
    return _num_dtype(dt) or dt in (pl.String, pl.Boolean)


def _fast_table_rows(
    t: TableRecords, columns: set[str], features: list[str], numeric: set[str]
) -> list[tuple[Any, ...]]:
    """Column-wise (Polars) checks of a CSV/Parquet batch; :class:`_Slow` on anything
    it would reject, so the per-record validator names each bad record and field."""
    df = t.df
    if "id" not in df.columns or "timestamp" not in df.columns:
        raise _Slow
    rest = set(t.rest)
    if not rest <= columns or not rest.issuperset(features):
        raise _Slow
    sid = df["id"]
    if not (sid.dtype == pl.String or sid.dtype.is_integer()) or sid.null_count():
        raise _Slow
    ids = _ids(sid.cast(pl.String).to_list())
    st = df["timestamp"]
    if st.null_count():
        raise _Slow
    if st.dtype.is_integer() or st.dtype.is_float():
        ts = st.cast(pl.Float64)
        if not ts.is_finite().all() or not ts.is_between(TIMESTAMP_MIN, TIMESTAMP_MAX).all():
            raise _Slow
        ts_list = ts.to_list()
    elif isinstance(st.dtype, pl.Datetime):
        ts = st.dt.epoch("us").cast(pl.Float64) / 1e6  # naive = UTC
        if not ts.is_between(TIMESTAMP_MIN, TIMESTAMP_MAX).all():
            raise _Slow
        ts_list = ts.to_list()
    elif st.dtype == pl.String:
        ts_list = _timestamps(st.to_list())
    else:
        raise _Slow
    for name in t.rest:
        s = df[name]
        if not _scalar_dtype(s.dtype):
            raise _Slow
        if name in numeric:
            if not _num_dtype(s.dtype):
                raise _Slow
            if s.dtype.is_float() and not s.is_finite().all():
                raise _Slow
    if t.rest:
        feats = df.select(pl.struct(t.rest).struct.json_encode()).to_series().to_list()
    else:
        feats = ["{}"] * df.height
    if "prediction" in df.columns:
        sp = df["prediction"]
        if not _scalar_dtype(sp.dtype):
            raise _Slow
        if sp.dtype.is_integer() or sp.dtype == pl.Boolean:  # their JSON is their text
            preds = sp.cast(pl.String).fill_null("null").to_list()
        else:
            preds = _dumps_all(sp.to_list())
    else:
        preds = ["null"] * df.height
    if "score" in df.columns:
        ss = df["score"]
        if not _num_dtype(ss.dtype):
            raise _Slow
        if ss.dtype.is_float() and not ss.is_finite().all():
            raise _Slow
        scores = ss.to_list()
    else:
        scores = [None] * df.height
    return list(zip(ids, ts_list, feats, preds, scores, strict=True))


def validate_predictions(
    records: list[Any] | TableRecords,
    *,
    columns: set[str],
    features: list[str],
    numeric: set[str],
) -> list[tuple[Any, ...]]:
    """Rows ``(id, ts, features_json, prediction_json, score)``, or :class:`RecordsError`.

    A column-wise fast path accepts a clean batch; a batch it cannot vouch for goes
    through the per-record checks, which name each bad record and field."""
    if not len(records):
        raise BodyError("the batch has no records")
    try:
        if isinstance(records, TableRecords):
            return _fast_table_rows(records, columns, features, numeric)
        return _fast_json_rows(records, columns, features, numeric)
    except _Slow:
        pass
    if isinstance(records, TableRecords):
        records = records.records()

    def parse_one(rec: dict[str, Any], err: RecordErrors) -> tuple[Any, ...] | None:
        return _prediction_row(rec, err, columns, features, numeric)

    return validate_batch(records, parse_one)


def _feature_errors(
    feats: Any, err: RecordErrors, columns: set[str], features: list[str], numeric: set[str]
) -> None:
    """Report what is wrong with one record's ``features`` object."""
    if not isinstance(feats, dict):
        err("features", "must be an object of feature values")
        return
    if len(feats) > MAX_FEATURES:
        err("features", f"has {len(feats)} fields; at most {MAX_FEATURES} are accepted")
        return
    for name in features:
        if name not in feats:
            err(f"features.{name}", "is missing (send null for a missing value)")
    for name, v in feats.items():
        if name not in columns:
            err(f"features.{name}", "is not a column of the reference data")
        elif not _scalar_ok(v):
            err(f"features.{name}", "must be a string, number, boolean or null")
        elif (
            name in numeric
            and v is not None
            and (isinstance(v, (str, bool)) or not math.isfinite(v))
        ):
            err(f"features.{name}", f"must be a finite number, not {v!r}")


def _prediction_row(
    rec: dict[str, Any],
    err: RecordErrors,
    columns: set[str],
    features: list[str],
    numeric: set[str],
) -> tuple[Any, ...] | None:
    """``(id, ts, features_json, prediction_json, score)`` of one record, each problem
    reported to ``err`` (the per-record path that names every bad field)."""
    rid: str = ""
    ts = 0.0
    try:
        rid = _record_id(rec)
    except ValueError as exc:
        err("id", str(exc))
    try:
        ts = parse_timestamp(rec.get("timestamp"))
    except ValueError as exc:
        err("timestamp", str(exc))
    feats = rec.get("features")
    _feature_errors(feats, err, columns, features, numeric)
    pred = rec.get("prediction")
    if not _scalar_ok(pred):
        err("prediction", "must be a string, number, boolean or null")
    score = rec.get("score")
    if score is not None and (
        isinstance(score, (bool, str))
        or not isinstance(score, (int, float))
        or not math.isfinite(score)
    ):
        err("score", f"must be a finite number or null, not {score!r}")
    for key in sorted(set(rec) - _RECORD_KEYS):
        err(key, "is not a record field (id, timestamp, features, prediction, score)")
    if not err.clean:
        return None
    return (rid, ts, json.dumps(feats), json.dumps(pred), None if score is None else score)


class RecordErrors:
    """The errors of one batch, collected record by record (see :func:`validate_batch`)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.record = 0
        self._start = 0

    def begin(self, i: int) -> None:
        self.record, self._start = i, len(self.items)

    def __call__(self, field: str | None, message: str) -> None:
        self.items.append({"record": self.record, "field": field, "message": message})

    @property
    def clean(self) -> bool:
        """Whether the current record has no error so far."""
        return len(self.items) == self._start


def validate_batch(
    records: list[Any], parse_one: Callable[[dict[str, Any], RecordErrors], Any]
) -> list[Any]:
    """The rows ``parse_one`` makes of each record, or :class:`RecordsError` naming every
    record and field at fault. ``parse_one(rec, err)`` reports problems with
    ``err(field, message)`` (``err.clean`` says whether it has yet); its row is kept only
    for a record without errors. An empty batch and a record that is not an object are
    refused here."""
    if not records:
        raise BodyError("the batch has no records")
    err = RecordErrors()
    rows: list[Any] = []
    for i, rec in enumerate(records):
        err.begin(i)
        if not isinstance(rec, dict):
            err(None, "must be an object")
            continue
        row = parse_one(rec, err)
        if err.clean:
            rows.append(row)
    if err.items:
        raise RecordsError(err.items[:MAX_ERRORS], len(err.items))
    return rows


def _label_row(rec: dict[str, Any], err: RecordErrors) -> tuple[str, str] | None:
    rid = None
    try:
        rid = _record_id(rec)
    except ValueError as exc:
        err("id", str(exc))
    label = rec.get("label")
    if label is None or not _scalar_ok(label):
        err("label", "must be a string, number or boolean")
    for key in sorted(set(rec) - {"id", "label"}):
        err(key, "is not a label field")
    return None if rid is None else (rid, json.dumps(label))


def validate_labels(records: list[Any]) -> list[tuple[str, str]]:
    """Rows ``(id, label_json)``, or :class:`RecordsError`."""
    return validate_batch(records, _label_row)
