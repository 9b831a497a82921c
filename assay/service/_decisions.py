"""Humans and models in the service (#17): reviewer decisions, a live challenger, feedback loops.

Three kinds of record join the predictions by ``id`` (either may arrive first; a
record for an unknown id is stored and joined when its prediction arrives):

- **decisions** (``POST /api/v1/models/{name}/decisions``): what a person did with
  the model's output (``outcome``: ``accepted``, ``overridden`` with the ``value``
  chosen, ``deferred``), who (``reviewer``, an opaque id) and how long it took
  (``seconds``); and, for a model whose decisions gate which outcomes are ever
  observed, the decision taken (``approved``), what the model alone would have
  decided (``model_approved``, the decision taken by default), whether the case
  was in the exploration slice decided without the model (``explore``) and the
  logged probability of the decision taken (``propensity``). A resent id replaces
  its decision.
- **challenger predictions** (``POST /api/v1/models/{name}/challenger/predictions``,
  ``Client.log_predictions(..., variant="challenger")``): the challenger's
  ``prediction`` and ``score`` for the same ids as the champion's (shadow mode,
  ``assignment: shadow``, the default) or for the ids a traffic split sent to it
  (A/B, ``assignment: challenger``; the champion's arm is then its labelled
  predictions with no challenger record).

Per window (computed with the window by the scheduler, stored with it):

- ``human_review``: override and deferral rates, agreement with the model when it
  is right and when it is wrong and their difference (the automation-bias gap),
  the human-in-the-loop decision's accuracy against the model's, review times,
  per reviewer with the reviewers flagged (:mod:`assay.monitoring.human`);
- ``challenger``: the always-valid confidence sequence of the per-row difference
  ``loss(champion) - loss(challenger)`` over every labelled pair up to the
  window's end, checked after every ``CS_BATCH`` labelled pairs and stopped at the
  first check where it is clear, and the promotion gate's decision on it
  (:mod:`assay.monitoring.sequential`);
- ``feedback_loop``: the shares of traffic whose outcome the model's decisions
  make observable or hide, labelled-vs-scored drift of the score, and with an
  exploration slice an inverse-propensity estimate of the model's accuracy on
  the cases it declines (:mod:`assay.monitoring.feedback`).

Their headline numbers are also flat in ``loop_metrics``, which trigger policies
read (``automation_bias_gap < 0.05`` for 2 windows, ``challenger_lower > 0``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from assay.service._records import (
    RecordErrors,
    _record_id,
    _scalar_ok,
    parse_timestamp,
    validate_batch,
)

if TYPE_CHECKING:
    from assay.service._store import ModelRecord

OUTCOMES = ("accepted", "overridden", "deferred")
ASSIGNMENTS = ("shadow", "challenger")
DECISION_FIELDS = (
    "id",
    "outcome",
    "value",
    "reviewer",
    "seconds",
    "approved",
    "model_approved",
    "explore",
    "propensity",
)
CHALLENGER_FIELDS = ("id", "timestamp", "prediction", "score", "assignment")
CS_BATCH = 200
"""Labelled pairs between two looks of the challenger's confidence sequence."""
CS_ALPHA = 0.05
GAP_MIN, FLAG_ALPHA, MIN_RIGHT, MIN_WRONG = 0.1, 0.05, 20, 10
"""The defaults of ``monitoring.human_oversight``: a reviewer is flagged when the
automation-bias gap is confidently below 0.1 (Holm, 5%), with at least 20 labelled
cases where the model was right and 10 where it was wrong."""

MIGRATION = (
    7,
    "human decisions and challenger predictions (#17)",
    (
        """CREATE TABLE human_decisions (
            model TEXT NOT NULL REFERENCES models(name),
            id TEXT NOT NULL,
            outcome TEXT,
            value TEXT,
            reviewer TEXT,
            seconds {real},
            approved INTEGER,
            model_approved INTEGER,
            explore INTEGER,
            propensity {real},
            received_at {real} NOT NULL,
            PRIMARY KEY (model, id)
        )""",
        """CREATE TABLE challenger_predictions (
            model TEXT NOT NULL REFERENCES models(name),
            id TEXT NOT NULL,
            ts {real} NOT NULL,
            prediction TEXT,
            score {real},
            assignment TEXT NOT NULL,
            received_at {real} NOT NULL,
            PRIMARY KEY (model, id)
        )""",
        "CREATE INDEX challenger_ts ON challenger_predictions (model, ts)",
    ),
)
TABLES = ("human_decisions", "challenger_predictions")


# -- validation -------------------------------------------------------------------


def _flag(v: Any) -> int | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool) or (isinstance(v, (int, float)) and v in (0, 1)):
        return int(bool(v))
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "1", "0"):
        return int(v.strip().lower() in ("true", "1"))
    raise ValueError("must be true or false")


def _number(v: Any, lo: float, hi: float, what: str) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= float(v) <= hi:
        raise ValueError(f"must be {what}")
    return float(v)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def validate_decisions(records: list[Any]) -> list[tuple[Any, ...]]:
    """Rows ``(id, outcome, value_json, reviewer, seconds, approved, model_approved,
    explore, propensity)``, or :class:`RecordsError` naming each record and field."""
    return validate_batch(records, _decision_row)


def _decision_row(rec: dict[str, Any], err: RecordErrors) -> tuple[Any, ...]:
    """One decision's row; ``err`` collects what is wrong with it (the row is kept only
    for a record without errors)."""
    rid = None
    try:
        rid = _record_id(rec)
    except ValueError as exc:
        err("id", str(exc))
    outcome = rec.get("outcome")
    if _missing(outcome):
        outcome = None
    elif not isinstance(outcome, str) or outcome.strip().lower() not in OUTCOMES:
        err("outcome", f"must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
    else:
        outcome = outcome.strip().lower()
    value = rec.get("value")
    if _missing(value):
        value = None
    if outcome == "overridden" and value is None:
        err("value", "an overridden decision needs the value the reviewer chose")
    elif value is not None and not _scalar_ok(value):
        err("value", "must be a string, number or boolean")
    reviewer = rec.get("reviewer")
    if _missing(reviewer):
        reviewer = None
    elif isinstance(reviewer, bool) or not isinstance(reviewer, (str, int)):
        err("reviewer", "must be a string or an integer (an opaque reviewer id)")
    elif not 0 < len(str(reviewer)) <= 200:
        err("reviewer", "must be 1 to 200 characters")
    out: dict[str, Any] = {}
    for key, parse in (
        ("seconds", lambda v: _number(v, 0, 1e9, "a number of seconds >= 0")),
        ("approved", _flag),
        ("model_approved", _flag),
        ("explore", _flag),
        ("propensity", lambda v: _number(v, 1e-9, 1, "a probability in (0, 1]")),
    ):
        try:
            out[key] = parse(rec.get(key))
        except ValueError as exc:
            err(key, str(exc))
    if out.get("propensity") is not None and out["propensity"] <= 0:
        err("propensity", "must be a probability in (0, 1]")
    if outcome is None and out.get("approved") is None and err.clean:
        err(
            "outcome",
            f"give outcome ({', '.join(OUTCOMES)}) for a reviewed case, or approved "
            "(the decision taken) for a feedback loop",
        )
    for key in sorted(set(rec) - set(DECISION_FIELDS)):
        err(key, "is not a decision field")
    return (
        rid,
        outcome,
        None if value is None else json.dumps(value),
        None if reviewer is None else str(reviewer),
        out.get("seconds"),
        out.get("approved"),
        out.get("model_approved"),
        out.get("explore"),
        out.get("propensity"),
    )


def validate_challenger(records: list[Any]) -> list[tuple[Any, ...]]:
    """Rows ``(id, ts, prediction_json, score, assignment)``, or :class:`RecordsError`."""
    return validate_batch(records, _challenger_row)


def _challenger_row(rec: dict[str, Any], err: RecordErrors) -> tuple[Any, ...]:
    """One challenger prediction's row; ``err`` collects what is wrong with it (the row
    is kept only for a record without errors)."""
    rid = ts = score = None
    try:
        rid = _record_id(rec)
    except ValueError as exc:
        err("id", str(exc))
    try:
        ts = parse_timestamp(rec.get("timestamp"))
    except ValueError as exc:
        err("timestamp", str(exc))
    pred = rec.get("prediction")
    if _missing(pred):
        pred = None
    elif not _scalar_ok(pred):
        err("prediction", "must be a string, number or boolean")
    try:
        score = _number(rec.get("score"), -1e300, 1e300, "a finite number")
    except ValueError as exc:
        err("score", str(exc))
    if pred is None and err.clean and _missing(rec.get("score")):
        err("prediction", "give the challenger's prediction or score")
    assignment = rec.get("assignment")
    if _missing(assignment):
        assignment = "shadow"
    elif assignment not in ASSIGNMENTS:
        err("assignment", f"must be one of {', '.join(ASSIGNMENTS)}; got {assignment!r}")
    for key in sorted(set(rec) - set(CHALLENGER_FIELDS) - {"features"}):
        err(key, "is not a challenger prediction field")
    return (rid, ts, json.dumps(pred), score, assignment)


# -- the store ------------------------------------------------------------------------


def _changed(store: Any, cur: Any, model: str) -> None:
    # like labels: these may change any window, so the scheduler looks at them all
    cur.execute(store._sql("INSERT INTO changes (model, lo, hi) VALUES (?, NULL, NULL)"), (model,))


def insert_decisions(store: Any, model: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Store decision rows in one transaction, committed before return (a resent id
    replaces its decision)."""
    now = time.time()
    cols = DECISION_FIELDS[1:]
    sql = store._sql(
        f"INSERT INTO human_decisions (model, {', '.join(DECISION_FIELDS)}, received_at) "
        f"VALUES ({', '.join('?' * (len(DECISION_FIELDS) + 2))}) ON CONFLICT (model, id) "
        f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols)}, "
        "received_at = excluded.received_at"
    )
    with store._write() as cur:
        cur.executemany(sql, [(model, *r, now) for r in rows])
        if rows:
            _changed(store, cur, model)
    return len(rows)


def insert_challenger(store: Any, model: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Store challenger predictions; returns how many were new (a known id is kept)."""
    now = time.time()
    sql = store._sql(
        "INSERT INTO challenger_predictions VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (model, id) DO NOTHING"
    )
    with store._write() as cur:
        cur.executemany(sql, [(model, *r, now) for r in rows])
        stored = max(int(cur.rowcount), 0)
        if rows:
            _changed(store, cur, model)
    return stored


def counts(store: Any, model: str) -> dict[str, int]:
    out = {}
    for table in TABLES:
        rows = store._read(f"SELECT COUNT(*) FROM {table} WHERE model = ?", (model,))
        out[table] = int(rows[0][0])
    return out


# -- per window -----------------------------------------------------------------------


def _clean(v: Any) -> Any:
    """JSON-safe: NumPy scalars to Python, NaN and infinities to ``None``."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _positive(model: ModelRecord) -> str | None:
    from assay.monitoring.human import normalize

    classes = list(model.schema.get("classes") or [])
    if model.task not in (None, "binary") or len(classes) != 2:
        return None
    return str(normalize([classes[-1]])[0])


def _human(rows: list[tuple[Any, ...]], dec: dict[str, tuple[Any, ...]]) -> dict[str, Any] | None:
    from assay.monitoring.human import by_reviewer, oversight_summary

    pred, decision, label, who, secs = [], [], [], [], []
    for r in rows:
        d = dec.get(r[0])
        if d is None or d[0] is None:
            continue
        p = json.loads(r[3]) if r[3] is not None else None
        pred.append(p)
        decision.append(
            p if d[0] == "accepted" else None if d[0] == "deferred" else json.loads(d[1])
        )
        label.append(json.loads(r[5]) if r[5] is not None else None)
        who.append(d[2] if d[2] is not None else "(none)")
        secs.append(np.nan if d[3] is None else d[3])
    if not pred:
        return None
    args = (np.asarray(pred, dtype=object), np.asarray(decision, dtype=object))
    y = np.asarray(label, dtype=object)
    seconds = np.asarray(secs, dtype=float)
    agg = oversight_summary(*args, y, seconds, gap_min=GAP_MIN)
    reviewers = by_reviewer(
        *args,
        y,
        np.asarray(who, dtype=object),
        seconds,
        gap_min=GAP_MIN,
        min_right=MIN_RIGHT,
        min_wrong=MIN_WRONG,
    )
    flagged = [
        r["reviewer"]
        for r in reviewers
        if r["judged"] and r["q_no_information"] is not None and r["q_no_information"] <= FLAG_ALPHA
    ]
    keep = (
        "reviewer",
        "judged",
        "n_decisions",
        "override_rate",
        "n_labelled",
        "agree_right",
        "agree_wrong",
        "gap",
        "gap_low",
        "gap_high",
        "q_no_information",
        "accept_seconds",
        "override_seconds",
    )
    return {
        **agg,
        "agreement": None if agg["override_rate"] is None else 1 - agg["override_rate"],
        "no_information": agg["p_no_information"] is not None
        and agg["p_no_information"] <= FLAG_ALPHA,
        "reviewers": [{k: r.get(k) for k in keep} for r in reviewers],
        "flagged": flagged,
    }


def _feedback(
    model: ModelRecord, rows: list[tuple[Any, ...]], dec: dict[str, tuple[Any, ...]]
) -> dict[str, Any] | None:
    from assay.errors import InputError
    from assay.monitoring.feedback import feedback_loop
    from assay.monitoring.human import normalize

    pos = _positive(model)
    sel = [(r, dec[r[0]]) for r in rows if r[0] in dec and dec[r[0]][4] is not None]
    if not sel:
        return None
    if pos is None or any(r[4] is None for r, _ in sel):
        return {"error": "the feedback loop needs a binary model with a score on every row"}
    score = np.array([r[4] for r, _ in sel], dtype=float)
    taken = np.array([bool(d[4]) for _, d in sel])
    by_model = np.array([bool(d[4] if d[5] is None else d[5]) for _, d in sel])
    explore = np.array([bool(d[6]) for _, d in sel])
    prop = np.array([1.0 if d[7] is None else d[7] for _, d in sel])
    y = np.array(
        [np.nan if r[5] is None else float(normalize([json.loads(r[5])])[0] == pos) for r, _ in sel]
    )
    try:
        rep = feedback_loop(
            score=score,
            model_decision=by_model,
            decision=taken,
            explore=explore,
            propensity=prop,
            label=y,
        )
    except InputError as exc:
        return {"error": str(exc)}
    drift = rep.drift.to_dicts()[0] if rep.drift.height else {}
    return {
        **rep.shares,
        "labelled_vs_scored": {k: drift.get(k) for k in ("psi", "ks", "p", "n_labelled")},
        "unobserved_accuracy": rep.unobserved,
        "naive_unobserved_accuracy": rep.naive_unobserved,
        "recommendation": rep.recommendation,
        "finding": rep.finding,
    }


def _losses(y: list[Any], pred: list[Any], score: list[Any], pos: str | None, metric: str):
    from assay.monitoring.human import normalize
    from assay.monitoring.sequential import LOG_LOSS_EPS

    if metric == "accuracy":
        return (normalize(pred) != normalize(y)).astype(float)
    yy = (normalize(y) == pos).astype(float)
    p = np.clip(np.asarray(score, dtype=float), LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return -(yy * np.log(p) + (1 - yy) * np.log1p(-p)) / -np.log(LOG_LOSS_EPS)


def _scores_ok(scores: list[Any]) -> bool:
    return all(s is not None and 0 <= s <= 1 for s in scores)


_Arm = tuple[list[Any], tuple[list[Any], list[Any]]]
"""One arm's labels, then its predictions and scores."""


def _challenger_pairs(
    store: Any, model: ModelRecord, until: float | None
) -> tuple[bool, _Arm, _Arm] | None:
    """``(A/B?, (labels, (champion predictions, scores)), (labels, (challenger
    predictions, scores)))`` of the labelled rows with ``ts < until``; ``None`` when
    there is no challenger. Shadow mode pairs each row with the challenger's
    prediction for it; A/B pairs the i-th labelled row of one arm with the i-th of the
    other."""
    bound, params = ("", [model.name]) if until is None else (" AND p.ts < ?", [model.name, until])
    modes = store._read(
        "SELECT assignment, COUNT(*) FROM challenger_predictions WHERE model = ? "
        "GROUP BY assignment",
        (model.name,),
    )
    if not modes:
        return None
    ab = any(m[0] == "challenger" for m in modes)
    if not ab:
        pairs = store._read(
            "SELECT l.label, p.prediction, p.score, c.prediction, c.score FROM predictions p "
            "JOIN challenger_predictions c ON c.model = p.model AND c.id = p.id "
            "JOIN labels l ON l.model = p.model AND l.id = p.id "
            f"WHERE p.model = ?{bound} ORDER BY p.ts, p.id",
            params,
        )
        y = [json.loads(r[0]) for r in pairs]
        a = ([json.loads(r[1]) for r in pairs], [r[2] for r in pairs])
        b = ([json.loads(r[3]) for r in pairs], [r[4] for r in pairs])
        ya = yb = y
    else:  # A/B: the i-th labelled row of one arm against the i-th of the other
        arm_a = store._read(
            "SELECT l.label, p.prediction, p.score FROM predictions p "
            "JOIN labels l ON l.model = p.model AND l.id = p.id WHERE p.model = ?"
            f"{bound} AND NOT EXISTS (SELECT 1 FROM challenger_predictions c "
            "WHERE c.model = p.model AND c.id = p.id) ORDER BY p.ts, p.id",
            params,
        )
        arm_b = store._read(
            "SELECT l.label, p.prediction, p.score FROM challenger_predictions p "
            "JOIN labels l ON l.model = p.model AND l.id = p.id WHERE p.model = ? "
            f"AND p.assignment = 'challenger'{bound} ORDER BY p.ts, p.id",
            params,
        )
        k = min(len(arm_a), len(arm_b))
        arm_a, arm_b = arm_a[:k], arm_b[:k]
        ya, yb = [json.loads(r[0]) for r in arm_a], [json.loads(r[0]) for r in arm_b]
        a = ([json.loads(r[1]) for r in arm_a], [r[2] for r in arm_a])
        b = ([json.loads(r[1]) for r in arm_b], [r[2] for r in arm_b])
    return ab, (ya, a), (yb, b)


def challenger_sequence(
    store: Any, model: ModelRecord, until: float | None = None
) -> dict[str, Any] | None:
    """The confidence sequence over every labelled pair with ``ts < until`` (all when
    ``None``), looked at every ``CS_BATCH`` pairs and stopped when clear; with the
    promotion gate's decision. ``None`` when there is no challenger."""
    from assay.monitoring.sequential import (
        ConfidenceSequence,
        SequentialResult,
        promotion_decision,
    )

    paired = _challenger_pairs(store, model, until)
    if paired is None:
        return None
    ab, (ya, a), (yb, b) = paired
    pos = _positive(model)
    metric = "log_loss" if pos is not None and _scores_ok(a[1]) and _scores_ok(b[1]) else "accuracy"
    la = _losses(ya, *a, pos, metric) if ya else np.empty(0)
    lb = _losses(yb, *b, pos, metric) if yb else np.empty(0)
    d = la - lb
    cs = ConfidenceSequence(alpha=CS_ALPHA)
    for start in range(0, d.size, CS_BATCH):
        cs.update(d[start : start + CS_BATCH])
        if cs.decision != "continue":
            break  # early stop: the rows after the first clear look are not used
    result = SequentialResult(
        metric=metric,
        n=cs.n,
        estimate=cs.estimate,
        lower=cs.lower,
        upper=cs.upper,
        decision=cs.decision,
        decided_at=cs.decided_at,
        alpha=CS_ALPHA,
        margin=0.0,
    )
    gate = promotion_decision(result)
    used = slice(0, cs.n)  # the rows the comparison used (up to the early stop)
    return {
        "mode": "ab" if ab else "shadow",
        "labelled_pairs": int(d.size),
        "champion_loss": float(la[used].mean()) if cs.n else None,
        "challenger_loss": float(lb[used].mean()) if cs.n else None,
        **{k: v for k, v in result.to_dict().items() if k != "history"},
        "looks": [dict(h) for h in cs.history][-50:],
        "promotion": {"promote": gate.promote, "reasons": list(gate.reasons)},
    }


def window_extras(
    store: Any, model: ModelRecord, rows: list[tuple[Any, ...]], start: float, end: float
) -> dict[str, Any]:
    """``human_review``, ``challenger``, ``feedback_loop`` and the flat ``loop_metrics``
    of one window of ``rows`` (as the store loads them), or ``{}`` when the model has
    none of these records."""
    have = {  # cheap: one row at most from each table
        t: bool(store._read(f"SELECT 1 FROM {t} WHERE model = ? LIMIT 1", (model.name,)))
        for t in TABLES
    }
    if not rows or not any(have.values()):
        return {}
    out: dict[str, Any] = {}
    if have["human_decisions"]:
        ids = {r[0] for r in rows}
        found = store._read(
            "SELECT d.id, d.outcome, d.value, d.reviewer, d.seconds, d.approved, "
            "d.model_approved, d.explore, d.propensity FROM human_decisions d JOIN predictions p "
            "ON p.model = d.model AND p.id = d.id WHERE d.model = ? AND p.ts >= ? AND p.ts <= ?",
            (model.name, min(r[1] for r in rows), max(r[1] for r in rows)),
        )
        dec = {r[0]: tuple(r[1:]) for r in found if r[0] in ids}
        out["human_review"] = _human(rows, dec)
        out["feedback_loop"] = _feedback(model, rows, dec)
    if have["challenger_predictions"]:
        out["challenger"] = challenger_sequence(store, model, max(end, rows[-1][1] + 1e-6))
    out = _clean(out)
    out["loop_metrics"] = flat_metrics(out)
    return out


def flat_metrics(item: dict[str, Any]) -> dict[str, float]:
    """The numbers a trigger policy may name, from one window's extras."""
    out: dict[str, float] = {}

    def put(name: str, v: Any) -> None:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[name] = float(v)

    h = item.get("human_review") or {}
    put("override_rate", h.get("override_rate"))
    put("agreement", h.get("agreement"))
    put("deferral_rate", h.get("deferral_rate"))
    put("automation_bias_gap", h.get("gap"))
    put("automation_bias_gap_high", h.get("gap_high"))
    put("human_accuracy_gain", h.get("accuracy_gain"))
    if h:
        put("reviewers_flagged", len(h.get("flagged") or []))
    f = item.get("feedback_loop") or {}
    put("observable_only_by_model", f.get("observable_only_by_model"))
    put("labels_chosen_by_model", f.get("labels_chosen_by_model"))
    put("labelled_vs_scored_psi", (f.get("labelled_vs_scored") or {}).get("psi"))
    put("unobserved_accuracy", (f.get("unobserved_accuracy") or {}).get("estimate"))
    c = item.get("challenger") or {}
    put("challenger_difference", c.get("estimate"))
    put("challenger_lower", c.get("lower"))
    put("challenger_upper", c.get("upper"))
    if c:
        put("challenger_better", float(c.get("decision") == "challenger_better"))
        put("champion_better", float(c.get("decision") == "champion_better"))
    return out
