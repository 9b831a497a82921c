"""The demo's production stream: the monitoring loop end to end, in process.

After the audit, :func:`replay` plays a production stream made from the bundled
UCI Adult test rows into the monitoring service (the FastAPI app on a SQLite file
in the demo's output folder, called through its HTTP API in process): ten days of
predictions, 1,000 a day; from day 7 the traffic shifts towards older people and
people with a university degree, so the feature distributions move away from the reference.
The daily windows catch the drift, the trigger policy fires, labels arrive late,
a challenger is retrained on the labeled production rows, and both models are
audited on the most recent labeled day; the challenger is promoted only if it
passes the same gates and is not worse beyond the champion's interval
(:func:`assay.monitoring.promote.promote`). The timeline is written to
``monitoring.html`` (self-contained, no script).

The stream also has people and a second model in the loop (#17):

- **reviewers**: every prediction is checked by one of two reviewers before the
  offer goes out; ``rev-a`` overrides most of the model's mistakes throughout,
  ``rev-b`` does too until day ``stamp_from`` and then rubber-stamps (accepts
  everything in about two seconds). The windows flag ``rev-b`` from that day on;
- **a censored approval loop**: a means-tested offer is made when the model
  predicts ``<=50K`` (or, for a random exploration slice of 10%, on a coin flip
  logged with its probability), and the true income bracket is only ever
  verified for the offers made. The
  windows show the labelled cases drifting away from the scored ones and the
  inverse-propensity estimate of the model's accuracy on the cases it declines;
- **a shadow challenger**: a smaller boosted model scores the same cases; as
  labels arrive, the always-valid interval of the difference in log loss decides
  for the champion and the promotion gate keeps it.

Example
-------
>>> report = replay("assay-demo", model, train, test)  # doctest: +SKIP
>>> print("\\n".join(report.lines))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assay.demo.run_demo import TARGET

__all__ = [
    "POLICY",
    "SHIFTED_EDUCATION",
    "StreamReport",
    "build_stream",
    "in_shifted_group",
    "replay",
]

MODEL_NAME = "adult-income"
START = int(_dt.datetime(2024, 3, 1, tzinfo=_dt.UTC).timestamp())
DAY = 86_400
SHIFTED_EDUCATION = ("Bachelors", "Masters", "Doctorate", "Prof-school")
POLICY: dict[str, Any] = {
    "name": "retrain-on-drift",
    "triggers": [
        {"metric": "drift_share", "op": ">", "value": 0.25, "consecutive": 2},
        {"metric": "estimated_accuracy_drop", "op": ">", "value": 0.05, "consecutive": 2},
    ],
    "cooldown": 3,
}


@dataclass
class StreamReport:
    """What the replay did: the windows and alerts as the API returned them, the
    promotion decision, the files written and a few lines for the summary."""

    windows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    decision: dict[str, Any] | None
    html: Path
    database: Path
    first_drift_day: int | None = None
    first_alert_day: int | None = None
    lines: list[str] = field(default_factory=list)
    challenger: dict[str, Any] | None = None
    """The live champion / challenger comparison after the labels (#17)."""
    first_flag_day: int | None = None
    """The first day a reviewer was flagged as rubber-stamping."""
    first_loop_day: int | None = None
    """The first day the labelled cases differed from the scored ones (PSI > 0.25)."""


PROMOTION_GATES = (
    "data.integrity",
    "evaluation.performance",
    "evaluation.calibration",
    "evaluation.baseline_comparison",
)


def in_shifted_group(frame: pd.DataFrame) -> np.ndarray:
    """The group the traffic shifts towards: people aged 40 or more, or holding a
    university degree (about 56% of the Adult test rows)."""
    degree = frame["education"].isin(SHIFTED_EDUCATION).to_numpy()
    return degree | (frame["age"].to_numpy() >= 40)


def build_stream(
    test: pd.DataFrame,
    *,
    n_reference: int = 3000,
    window_rows: int = 1000,
    n_windows: int = 10,
    drift_from: int = 6,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``test`` into a reference and a stream of ``n_windows`` days of
    ``window_rows`` rows. Days before ``drift_from`` draw rows as the reference
    does; later days take the remaining rows of the shifted group
    (:func:`in_shifted_group`), spread evenly, so its share rises from about 56%
    to up to 90%. No row is used twice. The stream has ``id``, ``timestamp`` and ``day``.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(test))
    shuffled = test.iloc[order].reset_index(drop=True)
    reference = shuffled.iloc[:n_reference].reset_index(drop=True)
    pool = shuffled.iloc[n_reference:].reset_index(drop=True)
    shifted = in_shifted_group(pool)
    hi, lo = list(np.flatnonzero(shifted)), list(np.flatnonzero(~shifted))
    base_share = float(in_shifted_group(reference).mean())
    n_before = min(drift_from, n_windows)
    per_before = round(window_rows * base_share)
    left = len(hi) - per_before * n_before
    per_after = min(int(left / max(n_windows - n_before, 1)), int(window_rows * 0.9))
    need_lo = (window_rows - per_before) * n_before + (window_rows - per_after) * (
        n_windows - n_before
    )
    if left < 0 or per_after <= per_before or len(lo) < need_lo:
        raise ValueError("not enough test rows for this stream; use fewer or smaller windows")
    days = []
    for day in range(n_windows):
        k = per_before if day < drift_from else per_after
        idx = [hi.pop() for _ in range(k)] + [lo.pop() for _ in range(window_rows - k)]
        rows = pool.iloc[rng.permutation(idx)].copy()
        rows["day"] = day
        days.append(rows)
    stream = pd.concat(days, ignore_index=True)
    step = DAY / window_rows
    stream.insert(0, "timestamp", START + (np.arange(len(stream)) * step).astype(int))
    stream.insert(0, "id", [f"p{i:06d}" for i in range(len(stream))])
    return reference, stream


def _scored(model: Any, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    proba = model.predict_proba(frame[features])
    classes = [str(c) for c in model.classes_]
    pos = classes.index(">50K") if ">50K" in classes else len(classes) - 1
    out = frame.copy()
    out["prediction"] = np.asarray(model.classes_)[proba.argmax(axis=1)].astype(str)
    out["score"] = proba[:, pos]
    return out


def _shadow_model(champion: Any, train: pd.DataFrame) -> Any:
    """The shadow challenger: the champion's pipeline with a much smaller booster (or,
    for another kind of champion, a logistic regression on the numeric columns)."""
    from sklearn.base import clone

    X, y = train.drop(columns=TARGET), train[TARGET]
    try:
        model = clone(champion).set_params(model__max_iter=4, model__max_depth=2)
    except (ValueError, TypeError, AttributeError):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        pick = FunctionTransformer(lambda f: f[numeric].fillna(0))
        model = make_pipeline(pick, StandardScaler(), LogisticRegression(max_iter=500))
    return model.fit(X, y)


STAMP_FROM = 4
"""The day (1-based) from which reviewer ``rev-b`` rubber-stamps."""
EXPLORE_SHARE = 0.1


def _human_loop(rows: pd.DataFrame, day: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One day's decision records: the reviewer's outcome and the offer decision
    (see the module notes); the truth is read only to simulate the reviewers."""
    out = []
    for i, pred, truth in zip(rows["id"], rows["prediction"], rows[TARGET], strict=True):
        who = "rev-a" if rng.random() < 0.5 else "rev-b"
        wrong = str(pred) != str(truth)
        if who == "rev-b" and day + 1 >= STAMP_FROM:
            flip, secs = False, rng.uniform(1, 3)
        else:
            flip = rng.random() < (0.7 if wrong else 0.04)
            secs = rng.uniform(25, 70) if flip else rng.uniform(12, 45)
        rec: dict[str, Any] = {"id": i, "reviewer": who, "seconds": round(float(secs), 1)}
        if flip:
            rec.update(outcome="overridden", value="<=50K" if pred == ">50K" else ">50K")
        else:
            rec["outcome"] = "accepted"
        by_model = pred == "<=50K"  # the offer: the outcome is verified only if it is made
        explore = bool(rng.random() < EXPLORE_SHARE)
        approved = bool(rng.random() < 0.5) if explore else bool(by_model)
        rec.update(
            approved=approved,
            model_approved=bool(by_model),
            explore=explore,
            propensity=0.5 if explore else 1.0,
        )
        out.append(rec)
    return out


def _records(frame: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    feats = frame[features].to_dict("records")
    return [
        {
            "id": i,
            "timestamp": int(ts),
            "features": {
                k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in f.items()
            },
            "prediction": p,
            "score": float(s),
        }
        for i, ts, f, p, s in zip(
            frame["id"], frame["timestamp"], feats, frame["prediction"], frame["score"], strict=True
        )
    ]


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def _check(resp: Any, what: str) -> Any:
    if resp.status_code >= 400:
        raise RuntimeError(f"{what} failed with HTTP {resp.status_code}: {resp.text[:300]}")
    return resp.json()


def _day(start: Any) -> int | None:
    try:
        t = _dt.datetime.fromisoformat(str(start)).timestamp()
    except ValueError:
        return None
    return int((t - START) // DAY) + 1


@dataclass
class _Loop:
    """What the replay learns day by day, through the service's HTTP API."""

    http: Any
    app: Any
    features: list[str]
    stream: pd.DataFrame
    shadow: pd.DataFrame
    rng: np.random.Generator
    size: str = "1d"
    api: str = f"/api/v1/models/{MODEL_NAME}"
    local_policy: Any = None  # a service without policy routes: judged here
    state: Any = None
    local_alerts: list[dict[str, Any]] = field(default_factory=list)
    observed: list[Any] = field(default_factory=list)  # ids whose outcome is ever seen
    first_drift: int | None = None
    first_alert: int | None = None

    def register(self, reference: pd.DataFrame) -> None:
        """Register the model with its reference data and set the trigger policy."""
        reference = reference[[*self.features, TARGET, "prediction", "score"]]
        model = {
            "name": MODEL_NAME,
            "target": TARGET,
            "prediction": "prediction",
            "score": "score",
            "task": "binary",
            "reference": _json_rows(reference),
        }
        _check(self.http.post("/api/v1/models", json=model), "registering the model")
        put = self.http.put(f"{self.api}/policy", json=POLICY)
        if put.status_code in (404, 405):  # a service without policy routes
            from assay.monitoring.policy import parse_policy

            self.local_policy = parse_policy(POLICY)
        else:
            _check(put, "setting the trigger policy")

    def alerts(self) -> list[dict[str, Any]]:
        return self.local_alerts or _check(self.http.get(f"{self.api}/alerts"), "alerts")["alerts"]

    def log_day(self, day: int) -> None:
        """One day's predictions, the shadow's and the reviewers' decisions."""
        rows = self.stream[self.stream["day"] == day]
        for part in np.array_split(np.arange(len(rows)), 2):
            records = _records(rows.iloc[part], self.features)
            post = self.http.post(f"{self.api}/predictions", json={"records": records})
            _check(post, "logging predictions")
        recs = [
            {"id": i, "timestamp": int(t), "prediction": p, "score": float(s)}
            for i, t, p, s in zip(
                rows["id"],
                rows["timestamp"],
                self.shadow.loc[rows.index, "prediction"],
                self.shadow.loc[rows.index, "score"],
                strict=True,
            )
        ]
        _check(
            self.http.post(f"{self.api}/challenger/predictions", json={"records": recs}),
            "logging the shadow challenger's predictions",
        )
        decisions = _human_loop(rows, day, self.rng)
        _check(
            self.http.post(f"{self.api}/decisions", json={"records": decisions}),
            "logging reviewer decisions",
        )
        self.observed += [d["id"] for d in decisions if d["approved"]]

    def judge_day(self, day: int) -> None:
        """The scheduler's daily look: it judges the day that has closed."""
        self.app.state.scheduler.run_once()
        self.app.state.dispatcher.drain(30)
        params = {"size": self.size, "limit": 2}
        latest = _check(self.http.get(f"{self.api}/windows", params=params), "windows")
        today = latest["windows"][-1]
        if self.first_drift is None and today.get("drift_status") in ("warn", "fail"):
            self.first_drift = day + 1
        if self.local_policy is not None:
            from assay.monitoring.policy import advance

            fired, self.state = advance(self.local_policy, latest["windows"], self.state)
            self.local_alerts += [a.to_dict() for a in fired]
        alerts = self.alerts()
        if self.first_alert is None and any(_fired_by_policy(a) for a in alerts):
            self.first_alert = day + 1

    def late_labels(self, n_windows: int) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """Labels for the offers made; the closed days computed again: the timeline, the
        alerts and the shadow challenger's standing."""
        seen = set(self.observed)
        labels = [
            {"id": i, "label": str(y)}
            for i, y in zip(self.stream["id"], self.stream[TARGET], strict=True)
            if i in seen
        ]
        _check(self.http.post(f"{self.api}/labels", json={"records": labels}), "logging labels")
        self.app.state.scheduler.run_once()  # late labels: the closed days are computed again
        params = {"size": self.size, "limit": n_windows}
        timeline = _check(self.http.get(f"{self.api}/windows", params=params), "windows")
        alerts = self.alerts()
        live = _check(self.http.get(f"{self.api}/challenger"), "the challenger")["challenger"]
        return timeline["windows"], alerts, live


def _fresh_database(out: Path) -> Path:
    """``out/monitoring.db``, any earlier one (and its WAL files) removed."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "monitoring.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def _service(db: Path, seed: int) -> tuple[Any, Any, str]:
    """The monitoring service on ``db``: its app, its store and an admin token."""
    from assay.service import Settings, create_app, open_store

    token = secrets.token_urlsafe(24)
    store = open_store(f"sqlite:///{db}")
    # the replayed days closed long ago: the scheduler is ticked by hand after each day,
    # and the late labels recompute the days at once (no minute between recomputations)
    settings = Settings(
        store_url=f"sqlite:///{db}",
        admin_token=token,
        seed=seed,
        evaluate_every_s=0,
        recompute_every_s=0,
    )
    return create_app(settings, store), store, token


def _promote_challenger(
    out: Path,
    model: Any,
    train: pd.DataFrame,
    stream: pd.DataFrame,
    *,
    features: list[str],
    drift_from: int,
    n_windows: int,
    n_bootstrap: int,
    seed: int,
    retrain: Callable[[pd.DataFrame], Any] | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Retrain a challenger on the labeled production rows since the drift; audit both
    models on the most recent labeled day; write ``promotion.json`` (and the challenger
    when it is promoted)."""
    from assay.demo.run_demo import build_model
    from assay.monitoring.promote import promote

    last = stream[stream["day"] == n_windows - 1]
    recent = stream[(stream["day"] >= drift_from) & (stream["day"] < n_windows - 1)]
    say(f"retraining a challenger on {len(recent):,} labeled production rows")
    fit = retrain or build_model
    challenger = fit(pd.concat([train, recent[[*features, TARGET]]], ignore_index=True))
    say("auditing champion and challenger on the most recent labeled day")
    result = promote(
        model,
        challenger,
        last[[*features, TARGET]].reset_index(drop=True),
        target=TARGET,
        config={
            "positive_label": ">50K",
            "seed": seed,
            "n_bootstrap": n_bootstrap,
            # The promotion gates: data fit to score, the model's quality with
            # its interval, and calibration (the full audit ran above).
            "include": list(PROMOTION_GATES),
        },
    )
    decision = result.to_dict()
    decision["window"] = {"day": n_windows, "rows": len(last)}
    decision["challenger_training_rows"] = int(len(train) + len(recent))
    (out / "promotion.json").write_text(json.dumps(decision, indent=2, default=str) + "\n")
    if result.promote:
        with contextlib.suppress(ImportError):
            import skops.io as sio

            sio.dump(challenger, out / "challenger.skops")
    return decision


def replay(
    out_dir: str | Path,
    model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    n_reference: int = 3000,
    window_rows: int = 1000,
    n_windows: int = 10,
    drift_from: int = 6,
    n_bootstrap: int = 200,
    seed: int = 0,
    retrain: Callable[[pd.DataFrame], Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StreamReport:
    """Replay the stream into a fresh ``monitoring.db`` in ``out_dir`` through the
    service's HTTP API, retrain and promote, write ``monitoring.html``.

    ``retrain`` fits a challenger on a training frame (default: the demo's
    :func:`~assay.demo.run_demo.build_model`).
    """
    from fastapi.testclient import TestClient

    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    db = _fresh_database(out)
    features = [c for c in test.columns if c != TARGET]
    shape = {"n_reference": n_reference, "window_rows": window_rows, "n_windows": n_windows}
    reference, stream = build_stream(test, **shape, drift_from=drift_from, seed=seed)
    reference = _scored(model, reference, features)
    stream = _scored(model, stream, features)
    shadow = _scored(_shadow_model(model, train), stream, features)
    app, store, token = _service(db, seed)
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
            loop = _Loop(http, app, features, stream, shadow, np.random.default_rng(seed + 17))
            say("registering the model with its reference data")
            loop.register(reference)
            for day in range(n_windows):
                say(f"day {day + 1}: logging {window_rows:,} predictions")
                loop.log_day(day)
                loop.judge_day(day)
            say("labels arrive for the ten days (for the offers made)")
            timeline, alerts, live = loop.late_labels(n_windows)
    finally:
        store.close()

    # champion / challenger on the most recent labeled day
    decision = None
    if loop.first_alert is not None:
        decision = _promote_challenger(
            out,
            model,
            train,
            stream,
            features=features,
            drift_from=drift_from,
            n_windows=n_windows,
            n_bootstrap=n_bootstrap,
            seed=seed,
            retrain=retrain,
            say=say,
        )
    report = StreamReport(
        windows=timeline,
        alerts=alerts,
        decision=decision,
        html=out / "monitoring.html",
        database=db,
        first_drift_day=loop.first_drift,
        first_alert_day=loop.first_alert,
        challenger=live,
        first_flag_day=_first_day(timeline, lambda w: (w.get("human_review") or {}).get("flagged")),
        first_loop_day=_first_day(timeline, _censored),
    )
    report.html.write_text(render_monitoring(report, drift_from=drift_from), encoding="utf-8")
    report.lines = _summary(report, n_windows, window_rows)
    return report


def _first_day(windows: list[dict[str, Any]], test: Callable[[dict[str, Any]], Any]) -> int | None:
    return next((i + 1 for i, w in enumerate(windows) if test(w)), None)


def _censored(w: Mapping[str, Any]) -> bool:
    psi = ((w.get("feedback_loop") or {}).get("labelled_vs_scored") or {}).get("psi")
    return isinstance(psi, (int, float)) and psi > 0.25


def _fired_by_policy(alert: Mapping[str, Any]) -> bool:
    text = json.dumps(alert, default=str)
    return POLICY["name"] in text


def _drifted(w: Mapping[str, Any], n: int = 4) -> str:
    cols = [str(c) for c in w.get("drifted_columns") or []]
    return ", ".join(cols[:n]) + (f" and {len(cols) - n} more" if len(cols) > n else "")


def _summary(report: StreamReport, n_windows: int, window_rows: int) -> list[str]:
    lines = [
        f"Monitoring: {n_windows} days of {window_rows:,} predictions replayed into "
        f"{report.database} through the service API"
    ]
    if report.first_drift_day is not None:
        w = report.windows[report.first_drift_day - 1]
        lines.append(
            f"  drift caught on day {report.first_drift_day}: drift share "
            f"{(w.get('drift_share') or 0):.0%} ({_drifted(w)})"
        )
    else:
        lines.append("  no window drifted")
    if report.first_alert_day is not None:
        lines.append(f"  trigger policy {POLICY['name']!r} fired on day {report.first_alert_day}")
    d = report.decision
    if d is not None:
        verdict = "PROMOTED" if d["promote"] else "not promoted"
        cand, champ = d.get("candidate") or {}, d.get("champion") or {}
        metric = d.get("metric") or "metric"
        lines.append(
            f"  challenger retrained on {d['challenger_training_rows']:,} rows, audited on day "
            f"{d['window']['day']}: {verdict} ({metric} {_n(cand.get('value'))} vs champion "
            f"{_n(champ.get('value'))} [{_n(champ.get('low'))}, {_n(champ.get('high'))}])"
        )
    if report.first_flag_day is not None:
        flagged = (report.windows[report.first_flag_day - 1].get("human_review") or {})["flagged"]
        lines.append(
            f"  rubber-stamping reviewer {', '.join(map(str, flagged))} flagged from day "
            f"{report.first_flag_day} (agrees with the model whether it is right or wrong)"
        )
    if report.first_loop_day is not None:
        loop = report.windows[report.first_loop_day - 1].get("feedback_loop") or {}
        est = loop.get("unobserved_accuracy") or {}
        lines.append(
            f"  censored approval loop caught from day {report.first_loop_day}: "
            f"{(loop.get('never_observable') or 0):.0%} of cases never get an outcome; accuracy "
            f"on declined cases {_n(est.get('estimate'))} [{_n(est.get('low'))}, "
            f"{_n(est.get('high'))}] (inverse-propensity weighted)"
        )
    ch = report.challenger
    if ch:
        lines.append(
            f"  shadow challenger: {ch['decision'].replace('_', ' ')} after {ch['n']:,} labelled "
            f"cases (log-loss difference {_n(ch['lower'])} to {_n(ch['upper'])}, always valid); "
            f"{'promote' if ch['promotion']['promote'] else 'champion kept'}"
        )
    lines.append(f"  timeline: {report.html}")
    return lines


def _n(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) else "—"


def render_monitoring(report: StreamReport, *, drift_from: int | None = None) -> str:
    """``monitoring.html``: the timeline charts, the windows, the alerts and the
    promotion decision, self-contained (inline styles and SVG, no script)."""
    from assay.render._format import esc
    from assay.render.charts import render_chart
    from assay.render.html import stylesheet
    from assay.service._dashboard import timeline_charts
    from assay.service._dashboard_loop import loop_sections

    charts = "".join(render_chart(c) for c in timeline_charts(report.windows, report.alerts))
    rows = []
    for i, w in enumerate(report.windows):
        est = (w.get("estimated_performance") or {}).get("estimated_accuracy")
        real = (w.get("realized_performance") or {}).get("accuracy")
        rows.append(
            f"<tr><td>{i + 1}</td><td>{esc(str(w.get('start'))[:10])}</td>"
            f"<td>{w.get('rows'):,}</td>"
            f"<td>{esc(w.get('drift_status'))}</td><td>{(w.get('drift_share') or 0):.0%}</td>"
            f"<td>{esc(_drifted(w, 6)) or '—'}</td><td>{_n(est)}</td><td>{_n(real)}</td></tr>"
        )
    alerts = "".join(
        f"<li><strong>day {_day(a.get('window_start') or a.get('window'))}</strong>: "
        f"{esc(a.get('message'))}</li>"
        for a in report.alerts
    )
    d = report.decision
    if d is None:
        promo = "<p>No trigger fired, so no challenger was trained.</p>"
    else:
        reasons = "".join(f"<li>{esc(r)}</li>" for r in d.get("reasons", []))
        verdict = "promoted" if d["promote"] else "not promoted"
        promo = (
            f"<p>A challenger retrained on {d['challenger_training_rows']:,} rows (the training "
            "data plus the labeled production rows since the drift) and the champion were "
            f"audited with the same checks on day {d['window']['day']} "
            f"({d['window']['rows']:,} labeled rows): the challenger was "
            f"<strong>{esc(verdict)}</strong>.</p><ul>{reasons}</ul>"
        )
    intro = (
        f"Ten days of predictions from the demo model; from day {drift_from + 1} the traffic "
        "shifts towards older people and people with a university degree."
        if drift_from is not None
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Assay demo: monitoring timeline</title>"
        f"<style>{stylesheet()}</style></head>"
        '<body class="ay-body"><div class="assay-report ay-page">'
        f"<h1>Monitoring timeline</h1><p>{esc(intro)} Each day is one window compared with "
        "the reference by the checks of <code>assay drift</code>; accuracy is estimated from "
        "the scores while labels are missing (CBPE) and measured when they arrive.</p>"
        f'<section class="ay-section"><div class="ay-charts">{charts}</div></section>'
        '<section class="ay-section"><h2>Windows</h2><div class="ay-table-wrap"><table>'
        "<thead><tr><th>Day</th><th>Date</th><th>Rows</th><th>Drift</th><th>Drift share</th>"
        "<th>Drifted columns</th><th>Estimated accuracy</th><th>Realized accuracy</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div></section>"
        f'<section class="ay-section"><h2>Alerts</h2><ul>{alerts or "<li>None.</li>"}</ul>'
        f'</section><section class="ay-section"><h2>Champion / challenger</h2>{promo}</section>'
        f'<section class="ay-section">{loop_sections(report.windows, report.challenger)}'
        "</section></div></body></html>\n"
    )


def demo_lines(
    out_dir: str | Path,
    model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Run :func:`replay` for ``assay demo``; the lines to print. Without the
    ``service`` extra the stream is skipped with a line saying how to get it."""
    try:
        import fastapi  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as exc:
        return [
            f"Monitoring stream skipped: it needs the optional package {exc.name}: "
            "pip install 'assay[service]'"
        ]
    return replay(out_dir, model, train, test, progress=progress).lines
