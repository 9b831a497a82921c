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
import re
from typing import Any

import numpy as np
import polars as pl

from assay.monitor._records import in_range
from assay.monitor._store import ModelRecord

_SIZE = re.compile(r"(\d{1,12})(m|h|d|rows)")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
MAX_WINDOWS = 200
MIN_WINDOW_SECONDS = 60
"""The shortest time window: 1 minute (``1m``)."""
MAX_WINDOW_SECONDS = 366 * 86400
"""The longest time window: 366 days (``366d``, ``8784h``)."""
MIN_WINDOW_ROWS = 1
"""The smallest row window: 1 row (``1rows``)."""
MAX_WINDOW_ROWS = 1_000_000
"""The largest row window: 1,000,000 rows (``1000000rows``)."""


def parse_size(size: str) -> tuple[str, int]:
    """``("time", seconds)`` for ``Nm``/``Nh``/``Nd`` (1 minute to 366 days),
    ``("rows", N)`` for ``Nrows`` (1 to 1,000,000 rows); ``ValueError`` naming
    ``size`` otherwise."""
    m = _SIZE.fullmatch(size.strip())
    if not m:
        raise ValueError(
            f"size must look like 1h, 1d, 30m or 500rows (a positive count), not {size[:40]!r}"
        )
    n, unit = int(m.group(1)), m.group(2)
    if unit == "rows":
        if not MIN_WINDOW_ROWS <= n <= MAX_WINDOW_ROWS:
            raise ValueError(
                f"size must be {MIN_WINDOW_ROWS} to {MAX_WINDOW_ROWS} rows, not {size!r}"
            )
        return ("rows", n)
    seconds = n * _UNITS[unit]
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise ValueError(f"size must be a time window from 1m to 366d, not {size!r}")
    return ("time", seconds)


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
    data = {c: [] for c in features}
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
    pred_cols = {}
    if model.prediction and model.prediction in cur.columns:
        pred_cols["prediction"] = model.prediction
    if model.score and model.score in cur.columns:
        pred_cols["score"] = model.score
    if pred_cols:
        include.append("drift.prediction")
    ref_side = ref.drop([model.target] if model.target in ref.columns else [])
    result = drift(ref_side, cur, **pred_cols, config={"include": include, "seed": seed})
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


def compute_windows(
    store: Any, model: ModelRecord, size: str, *, limit: int = 24, seed: int = 0
) -> list[dict[str, Any]]:
    """The latest ``limit`` windows of ``model``'s predictions, oldest first."""
    kind, n = parse_size(size)
    rows = store.load_predictions(model.name)
    windows = _split(rows, kind, n)[-max(1, min(limit, MAX_WINDOWS)) :]
    ref = reference_frame(model)
    out = []
    for w in windows:
        start = (w[0][1] // n) * n if kind == "time" else w[0][1]
        end = start + n if kind == "time" else w[-1][1]
        item: dict[str, Any] = {"start": _iso(start), "end": _iso(end), "rows": len(w)}
        cur = _current_frame(model, ref, w)
        item.update(_drift(model, ref, cur, seed))
        item["realized_performance"] = _realized(model, w)
        item["estimated_performance"] = _estimated(model, ref, w, seed)
        out.append(item)
    return out
