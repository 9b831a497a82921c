"""Turn request bodies into validated rows for the store; a batch is valid whole or not at all.

>>> from assay.monitor._records import parse_timestamp
>>> parse_timestamp("1970-01-01T00:01:00Z")
60.0
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from typing import Any

import polars as pl

MAX_ERRORS = 50
ID_MAX = 200
MAX_FEATURES = 1000
"""The most feature fields one record (or a reference table) may carry."""
PARQUET_TYPES = (
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/parquet",
    "application/octet-stream",
)


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


def parse_timestamp(value: Any) -> float:
    """Seconds since the epoch from a number, an ISO-8601 string or a datetime (UTC if
    naive)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be an ISO-8601 string or seconds since the epoch")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return float(value)
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from exc
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.timestamp()
    raise ValueError("must be an ISO-8601 string or seconds since the epoch")


def _scalar_ok(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def frame_from_body(body: bytes, content_type: str) -> pl.DataFrame:
    """A frame from a CSV or Parquet body."""
    try:
        if content_type.startswith("text/csv"):
            return pl.read_csv(io.BytesIO(body), infer_schema_length=10_000)
        return pl.read_parquet(io.BytesIO(body))
    except Exception as exc:  # polars raises many kinds for a bad file
        kind = "CSV" if content_type.startswith("text/csv") else "Parquet"
        raise BodyError(f"the body is not readable {kind}: {exc}") from exc


def records_from_body(body: bytes, content_type: str, *, fields: tuple[str, ...]) -> list[Any]:
    """Records from a JSON ``{"records": [...]}`` body, or a CSV/Parquet table whose
    columns ``fields`` are record fields and the rest go under ``features``."""
    ct = content_type.split(";")[0].strip().lower()
    if ct == "application/json" or ct.endswith("+json"):
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BodyError(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
            raise BodyError('the JSON body must be an object {"records": [...]}')
        return doc["records"]
    if ct == "text/csv" or ct in PARQUET_TYPES:
        df = frame_from_body(body, ct)
        if df.width > MAX_FEATURES + len(fields):
            raise BodyError(f"the table has {df.width} columns; at most {MAX_FEATURES} features")
        named = [c for c in fields if c in df.columns]
        rest = [c for c in df.columns if c not in fields]
        out = []
        for row in df.iter_rows(named=True):
            rec = {c: row[c] for c in named}
            if "features" in fields:
                rec["features"] = {c: row[c] for c in rest}
            out.append(rec)
        return out
    raise BodyError(
        f"unsupported content type {content_type!r}; send application/json, text/csv or "
        "application/vnd.apache.parquet"
    )


def _record_id(rec: dict[str, Any]) -> str:
    rid = rec.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        raise ValueError("must be a string or an integer")
    rid = str(rid)
    if not rid or len(rid) > ID_MAX:
        raise ValueError(f"must be 1 to {ID_MAX} characters")
    return rid


def validate_predictions(
    records: list[Any], *, columns: set[str], features: list[str], numeric: set[str]
) -> list[tuple[Any, ...]]:
    """Rows ``(id, ts, features_json, prediction_json, score)``, or :class:`RecordsError`."""
    if not records:
        raise BodyError("the batch has no records")
    errors: list[dict[str, Any]] = []
    total = 0
    rows: list[tuple[Any, ...]] = []

    def bad(i: int, field: str | None, message: str) -> None:
        nonlocal total
        total += 1
        if len(errors) < MAX_ERRORS:
            errors.append({"record": i, "field": field, "message": message})

    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            bad(i, None, "must be an object")
            continue
        n_before = total
        try:
            rid = _record_id(rec)
        except ValueError as exc:
            bad(i, "id", str(exc))
        try:
            ts = parse_timestamp(rec.get("timestamp"))
        except ValueError as exc:
            bad(i, "timestamp", str(exc))
        feats = rec.get("features")
        if not isinstance(feats, dict):
            bad(i, "features", "must be an object of feature values")
        elif len(feats) > MAX_FEATURES:
            bad(i, "features", f"has {len(feats)} fields; at most {MAX_FEATURES} are accepted")
        else:
            for name in features:
                if name not in feats:
                    bad(i, f"features.{name}", "is missing (send null for a missing value)")
            for name, v in feats.items():
                if name not in columns:
                    bad(i, f"features.{name}", "is not a column of the reference data")
                elif not _scalar_ok(v):
                    bad(i, f"features.{name}", "must be a string, number, boolean or null")
                elif (
                    name in numeric
                    and v is not None
                    and (isinstance(v, (str, bool)) or not math.isfinite(v))
                ):
                    bad(i, f"features.{name}", f"must be a finite number, not {v!r}")
        pred = rec.get("prediction")
        if not _scalar_ok(pred):
            bad(i, "prediction", "must be a string, number, boolean or null")
        score = rec.get("score")
        if score is not None and (
            isinstance(score, (bool, str))
            or not isinstance(score, (int, float))
            or not math.isfinite(score)
        ):
            bad(i, "score", f"must be a finite number or null, not {score!r}")
        unknown = set(rec) - {"id", "timestamp", "features", "prediction", "score"}
        for key in sorted(unknown):
            bad(i, key, "is not a record field (id, timestamp, features, prediction, score)")
        if total == n_before:
            rows.append(
                (rid, ts, json.dumps(feats), json.dumps(pred), None if score is None else score)
            )
    if total:
        raise RecordsError(errors, total)
    return rows


def validate_labels(records: list[Any]) -> list[tuple[str, str]]:
    """Rows ``(id, label_json)``, or :class:`RecordsError`."""
    if not records:
        raise BodyError("the batch has no records")
    errors: list[dict[str, Any]] = []
    rows: list[tuple[str, str]] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            errors.append({"record": i, "field": None, "message": "must be an object"})
            continue
        ok = True
        try:
            rid = _record_id(rec)
        except ValueError as exc:
            errors.append({"record": i, "field": "id", "message": str(exc)})
            ok = False
        label = rec.get("label")
        if label is None or not _scalar_ok(label):
            errors.append(
                {"record": i, "field": "label", "message": "must be a string, number or boolean"}
            )
            ok = False
        for key in sorted(set(rec) - {"id", "label"}):
            errors.append({"record": i, "field": key, "message": "is not a label field"})
            ok = False
        if ok:
            rows.append((rid, json.dumps(label)))
    if errors:
        raise RecordsError(errors[:MAX_ERRORS], len(errors))
    return rows
