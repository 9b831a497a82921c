"""Windows of stored predictions, each compared with the model's reference by the
same drift checks ``assay drift`` runs (the service re-implements no statistic).

>>> parse_size("1h"), parse_size("500rows")
(('time', 3600), ('rows', 500))

Stored rows whose timestamp lies outside years 1970 to 2200 (an old database may hold
some, accepted before ingestion checked the range) are left out of every window.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
from typing import Any

import numpy as np
import polars as pl

from assay.monitoring.policy import (  # noqa: F401  (the limits, documented here too)
    MAX_WINDOW_ROWS,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_ROWS,
    MIN_WINDOW_SECONDS,
    parse_window,
)
from assay.service._records import in_range
from assay.service._store import ModelRecord

MAX_WINDOWS = 200


def parse_size(size: str) -> tuple[str, int]:
    """``("time", seconds)`` or ``("rows", N)`` (see
    :func:`assay.monitoring.policy.parse_window`)."""
    return parse_window(size)


@functools.lru_cache(maxsize=16)
def _reference(name: str, created_at: float, blob: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(blob))


def reference_frame(model: ModelRecord) -> pl.DataFrame:
    return _reference(model.name, model.created_at, model.reference)


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat()


def _split(rows: list[tuple[Any, ...]], kind: str, n: int) -> list[list[tuple[Any, ...]]]:
    """Rows cut into windows of ``n`` rows or ``n`` seconds; a row whose timestamp is
    out of range (see :func:`in_range`) is skipped, so it can never break a window."""
    rows = [r for r in rows if isinstance(r[1], (int, float)) and in_range(r[1])]
    if kind == "rows":
        return [rows[i : i + n] for i in range(0, len(rows), n)]
    groups: dict[int, list[tuple[Any, ...]]] = {}
    for r in rows:
        groups.setdefault(int(r[1] // n), []).append(r)
    return [groups[k] for k in sorted(groups)]


def _current_frame(model: ModelRecord, ref: pl.DataFrame, rows: list[tuple[Any, ...]]) -> Any:
    features = [c for c in ref.columns if c not in {model.target, model.prediction, model.score}]
    data: dict[str, list[Any]] = {c: [] for c in features}
    for r in rows:
        f = json.loads(r[2])
        for c in features:
            data[c].append(f.get(c))
    cols = []
    for c in features:
        s = pl.Series(c, data[c], strict=False)
        cols.append(s.cast(ref.schema[c], strict=False) if s.dtype != ref.schema[c] else s)
    cur = pl.DataFrame(cols)
    if model.prediction and model.prediction in ref.columns:
        pred = pl.Series(model.prediction, [json.loads(r[3]) for r in rows], strict=False)
        cur = cur.with_columns(pred.cast(ref.schema[model.prediction], strict=False))
    if model.score and model.score in ref.columns:
        cur = cur.with_columns(pl.Series(model.score, [r[4] for r in rows], dtype=pl.Float64))
    return cur


def _drift(model: ModelRecord, ref: pl.DataFrame, cur: pl.DataFrame, seed: int) -> dict[str, Any]:
    from assay.drift import drift

    include = ["drift.features"]
    pred_cols: dict[str, str] = {}
    if model.prediction and model.prediction in cur.columns:
        pred_cols["prediction"] = model.prediction
    if model.score and model.score in cur.columns:
        pred_cols["score"] = model.score
    if pred_cols:
        include.append("drift.prediction")
    ref_side = ref.drop([model.target] if model.target in ref.columns else [])
    result = drift(
        ref_side,
        cur,
        prediction=pred_cols.get("prediction"),
        score=pred_cols.get("score"),
        config={"include": include, "seed": seed},
    )
    out: dict[str, Any] = {}
    feats = result.check("drift.features")
    out["drift_status"] = feats.status
    out["drift_share"] = feats.metrics.get("drift_share")
    out["drifted_columns"] = [f.column for f in feats.findings if f.column]
    if pred_cols:
        pc = result.check("drift.prediction")
        out["prediction_drift"] = {
            "status": pc.status,
            "summary": pc.summary,
            **{k: pc.metrics[k] for k in ("statistic", "p_value", "psi") if k in pc.metrics},
        }
    else:
        out["prediction_drift"] = None
    return out


def _realized(model: ModelRecord, rows: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    labeled = [r for r in rows if r[5] is not None]
    if not labeled:
        return None
    y = [json.loads(r[5]) for r in labeled]
    pred = [json.loads(r[3]) for r in labeled]
    out: dict[str, Any] = {"labeled_rows": len(labeled)}
    if model.task == "regression":
        yt = np.asarray(y, dtype=float)
        yp = np.asarray(pred, dtype=float)
        out["mae"] = float(np.mean(np.abs(yt - yp)))
        out["rmse"] = float(np.sqrt(np.mean((yt - yp) ** 2)))
        return out
    out["accuracy"] = float(np.mean([str(a) == str(b) for a, b in zip(y, pred, strict=True)]))
    return out


def _estimated(
    model: ModelRecord, ref: pl.DataFrame, rows: list[tuple[Any, ...]], seed: int
) -> dict[str, Any] | None:
    """CBPE per window (binary classifiers with a score column and a labeled reference)."""
    try:
        from assay.monitoring._cbpe import estimate_performance
    except ImportError:  # the estimation module is not there: no estimate
        return None
    classes = list(model.schema.get("classes") or [])
    if (
        model.task != "binary"
        or len(classes) != 2
        or not model.score
        or not model.target
        or model.score not in ref.columns
        or model.target not in ref.columns
    ):
        return None
    scores = np.array([r[4] for r in rows], dtype=float)
    if np.isnan(scores).any():
        return None
    ref_y = ref.get_column(model.target).to_list()
    labels = [json.loads(r[5]) if r[5] is not None else None for r in rows]
    have_all = all(v is not None for v in labels)
    est = estimate_performance(
        ref.get_column(model.score).to_numpy().astype(float),
        ref_y,
        scores,
        classes=classes,
        positive_class=classes[-1],
        n_bootstrap=100,
        seed=seed,
        current_labels=labels if have_all else None,
    )
    return {k: v for k, v in est["metrics"].items() if isinstance(v, (int, float))}


def window_item(
    model: ModelRecord,
    rows: list[tuple[Any, ...]],
    start: float,
    end: float,
    seed: int = 0,
    store: Any = None,
) -> dict[str, Any]:
    """One window's result: rows, drift per column, prediction drift, realized and
    estimated performance; with the ``store``, reviewer decisions, the challenger and
    the feedback loop where the model has them (:mod:`assay.service._decisions`)."""
    ref = reference_frame(model)
    item: dict[str, Any] = {"start": _iso(start), "end": _iso(end), "rows": len(rows)}
    cur = _current_frame(model, ref, rows)
    item.update(_drift(model, ref, cur, seed))
    item["realized_performance"] = _realized(model, rows)
    item["estimated_performance"] = _estimated(model, ref, rows, seed)
    if store is not None:
        from assay.service._decisions import window_extras

        item.update(window_extras(store, model, rows, start, end))
    return item


def span(kind: str, n: int, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """``(start, end)`` of a window of ``rows``: the time bucket, or the first and
    last timestamps of a row window."""
    if kind == "time":
        start = (rows[0][1] // n) * n
        return start, start + n
    return rows[0][1], rows[-1][1]


def split_rows(rows: list[tuple[Any, ...]], kind: str, n: int) -> list[list[tuple[Any, ...]]]:
    """Stored rows cut into windows (see :func:`compute_windows`)."""
    return _split(rows, kind, n)


def cut_row_windows(
    rows: list[tuple[Any, ...]], n: int, stored: list[tuple[float, float]]
) -> tuple[dict[float, list[tuple[Any, ...]]], list[list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """Rows (in ``(timestamp, id)`` order) cut into ``n``-row windows around the row
    windows already stored, ``stored`` being their ``(key, end)`` (the first and last
    timestamps they closed with), in key order.

    Returns ``(stored rows by key, new full windows, rows of the window still filling)``.
    A closed row window keeps its place: a late row (one no later than the last stored
    window's end) joins the stored window whose span it falls in, from that window's
    start to the next one's (rows older than every window join the first), and that
    window is computed again, as a time window is. Rows after the last stored window
    fill new windows of ``n`` rows in timestamp order; a window also takes the rows
    that share its last timestamp, so that no late row can ever fall on a boundary.
    """
    import bisect

    rows = [r for r in rows if isinstance(r[1], (int, float)) and in_range(r[1])]
    keys = [k for k, _ in stored]
    last_end = stored[-1][1] if stored else None
    old: dict[float, list[tuple[Any, ...]]] = {}
    fresh: list[tuple[Any, ...]] = []
    for r in rows:
        if last_end is not None and r[1] <= last_end:
            i = max(bisect.bisect_right(keys, r[1]) - 1, 0)
            old.setdefault(keys[i], []).append(r)
        else:
            fresh.append(r)
    new, at = [], 0
    while len(fresh) - at >= n:
        stop = at + n
        while stop < len(fresh) and fresh[stop][1] == fresh[stop - 1][1]:
            stop += 1
        new.append(fresh[at:stop])
        at = stop
    return old, new, fresh[at:]


def compute_windows(
    store: Any, model: ModelRecord, size: str, *, limit: int = 24, seed: int = 0
) -> list[dict[str, Any]]:
    """The latest ``limit`` windows of ``model``'s predictions, oldest first."""
    kind, n = parse_size(size)
    rows = store.load_predictions(model.name)
    windows = _split(rows, kind, n)[-max(1, min(limit, MAX_WINDOWS)) :]
    return [window_item(model, w, *span(kind, n, w), seed, store) for w in windows]
