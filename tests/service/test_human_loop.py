"""Humans and models in the service (#17): reviewer decisions with automation-bias
metrics per window and a policy on them, a shadow / A-B challenger with an
always-valid interval fed to the promotion gate, a censored approval loop; bad
input; and on a real server, the client and SIGKILL durability of decisions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.service.conftest import ADMIN, free_port, judge, reference_frame, start_server

HOUR = 3600
H = 1_700_000_000 // HOUR
BIAS_POLICY = {
    "name": "review",
    "window": "1h",
    "grace": "10m",
    "triggers": [
        {"metric": "automation_bias_gap", "op": "<", "value": 0.05, "consecutive": 2},
        {"metric": "labelled_vs_scored_psi", "op": ">", "value": 0.25, "name": "censored"},
    ],
}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _traffic(hour: int, n: int, seed: int, prefix: str = "r") -> pd.DataFrame:
    """``n`` cases in ``hour``: features as the reference's, the true probability
    ``p`` of label 1, the label drawn from it, the champion's score and prediction."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    p = _sigmoid(1.5 * x + (colour == "red"))
    return pd.DataFrame(
        {
            "id": [f"{prefix}{hour}-{i}" for i in range(n)],
            "timestamp": hour * HOUR + np.arange(n) * (HOUR - 1) / n,
            "x": x,
            "colour": colour,
            "p": p,
            "y": (rng.random(n) < p).astype(int),
            "score": p,
            "prediction": (p > 0.5).astype(int),
        }
    )


def _records(df: pd.DataFrame) -> list[dict]:
    return [
        {
            "id": r.id,
            "timestamp": float(r.timestamp),
            "features": {"x": float(r.x), "colour": r.colour},
            "prediction": int(r.prediction),
            "score": float(r.score),
        }
        for r in df.itertuples()
    ]


def _post(c, path: str, records: list[dict], auth) -> dict:
    """POST through the in-process client or an ``httpx.Client`` (``auth`` empty)."""
    r = c.post(f"/api/v1/models/churn/{path}", json={"records": records}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def _labels(c, df: pd.DataFrame, auth, where=None) -> None:
    rows = df if where is None else df[where]
    recs = [{"id": i, "label": int(y)} for i, y in zip(rows["id"], rows["y"], strict=True)]
    if recs:
        _post(c, "labels", recs, auth)


def _reviews(df: pd.DataFrame, who: np.ndarray, seed: int, stamp: str = "stamp") -> list[dict]:
    """``stamp`` accepts every output in about 2 s; the others override 80% of the
    model's mistakes and 5% of its right answers, taking longer to override."""
    rng = np.random.default_rng(seed)
    out = []
    for r, w in zip(df.itertuples(), who, strict=True):
        wrong = r.prediction != r.y
        if w == stamp:
            flip, secs = False, rng.uniform(1, 3)
        else:
            flip = rng.random() < (0.8 if wrong else 0.05)
            secs = rng.uniform(20, 60) if flip else rng.uniform(10, 40)
        rec = {"id": r.id, "reviewer": w, "seconds": float(secs), "outcome": "accepted"}
        if flip:
            rec.update(outcome="overridden", value=int(1 - r.prediction))
        out.append(rec)
    return out


def _windows(c, auth) -> list[dict]:
    body = c.get("/api/v1/models/churn/windows?size=1h&limit=20", headers=auth).json()
    return [w for w in body["windows"] if w["stored"]]


def test_rubber_stamping_reviewer_is_flagged_and_the_policy_fires(registered, auth):
    c = registered
    assert c.put("/api/v1/models/churn/policy", json=BIAS_POLICY, headers=auth).status_code == 200
    hours = [_traffic(H + k, 400, seed=k) for k in range(4)]
    who = [
        np.full(400, "care"),  # clean: an informative reviewer
        np.where(np.arange(400) % 2 == 0, "stamp", "care"),  # both
        np.full(400, "stamp"),
        np.full(400, "stamp"),
    ]
    for k, df in enumerate(hours):
        reviews = _reviews(df, who[k], seed=10 + k)
        if k == 3:  # decisions before their predictions: stored, joined later
            assert _post(c, "decisions", reviews, auth) == {"accepted": 400}
        _post(c, "predictions", _records(df), auth)
        if k != 3:
            _post(c, "decisions", reviews, auth)
        _labels(c, df, auth)
    judge(c, now=(H + 4) * HOUR + 601)
    ws = _windows(c, auth)
    assert len(ws) == 4
    review = [w["human_review"] for w in ws]
    assert [r["n_decisions"] for r in review] == [400, 400, 400, 400]
    # clean window: informative reviewer, large gap, nobody flagged
    assert review[0]["gap"] > 0.5 and review[0]["flagged"] == []
    assert review[0]["accuracy_gain"] > 0 and not review[0]["no_information"]
    # mixed: only the rubber stamp is flagged; its accept time is short
    assert review[1]["flagged"] == ["stamp"]
    by = {r["reviewer"]: r for r in review[1]["reviewers"]}
    assert by["stamp"]["judged"] and abs(by["stamp"]["gap"]) < 1e-9
    assert by["stamp"]["accept_seconds"] < 5 < by["care"]["accept_seconds"]
    # stamped windows: gap 0, override rate 0, review adds no information
    for r in review[2:]:
        assert r["gap"] == 0 and r["override_rate"] == 0 and r["no_information"]
        assert r["flagged"] == ["stamp"]
    assert [w["loop_metrics"]["automation_bias_gap"] < 0.05 for w in ws] == [
        False,
        False,
        True,
        True,
    ]
    alerts = c.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert [a["window_start"] for a in alerts] == [ws[3]["start"]]
    assert "automation_bias_gap" in alerts[0]["message"]


def test_bad_decisions_are_refused_naming_the_field(registered, auth):
    c = registered
    url = "/api/v1/models/churn/decisions"
    r = c.post(url, json={"records": [{"id": "a", "outcome": "approved"}]}, headers=auth)
    assert r.status_code == 422
    err = r.json()["error"]
    assert "'outcome'" in err["message"] and "accepted, overridden, deferred" in err["message"]
    assert err["details"][0]["field"] == "outcome"
    for rec, field in [
        ({"id": "a", "outcome": "overridden"}, "value"),
        ({"id": "a", "outcome": "accepted", "seconds": -1}, "seconds"),
        ({"id": "a", "approved": True, "propensity": 0}, "propensity"),
        ({"id": "a", "outcome": "accepted", "verdict": 1}, "verdict"),
        ({"id": "a"}, "outcome"),
    ]:
        r = c.post(url, json={"records": [rec, {"id": "b", "outcome": "deferred"}]}, headers=auth)
        assert r.status_code == 422, (rec, r.text)
        assert r.json()["error"]["details"][0]["field"] == field
    # nothing of a refused batch was stored
    body = c.get("/api/v1/models/churn/challenger", headers=auth).json()
    assert body["human_decisions"] == 0 and body["challenger"] is None
    r = c.post(
        "/api/v1/models/churn/challenger/predictions",
        json={"records": [{"id": "a", "timestamp": 1e9, "score": 0.3, "assignment": "canary"}]},
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "assignment"


def _challenger_run(c, auth, champion, challenger, *, ab: bool = False, hours: int = 3):
    """Champion and challenger scores per case (functions of the traffic frame)."""
    assert c.put("/api/v1/models/churn/policy", json=BIAS_POLICY, headers=auth).status_code == 200
    for k in range(hours):
        df = _traffic(H + k, 1500, seed=100 + k)
        champ, chall = champion(df), challenger(df)
        if ab:  # a 50/50 split: odd cases are served by the challenger only
            arm = np.arange(len(df)) % 2 == 1
            _post(c, "predictions", _records(df.assign(score=champ)[~arm]), auth)
            recs = [
                {"id": i, "timestamp": float(t), "score": float(s), "assignment": "challenger"}
                for i, t, s in zip(df["id"][arm], df["timestamp"][arm], chall[arm], strict=True)
            ]
        else:
            _post(c, "predictions", _records(df.assign(score=champ)), auth)
            recs = [
                {"id": i, "timestamp": float(t), "score": float(s)}
                for i, t, s in zip(df["id"], df["timestamp"], chall, strict=True)
            ]
        _post(c, "challenger/predictions", recs, auth)
        _labels(c, df, auth)
    judge(c, now=(H + hours) * HOUR + 601)
    return _windows(c, auth), c.get("/api/v1/models/churn/challenger", headers=auth).json()


def _blunt(df):  # an under-confident model: right ranking, poor probabilities
    return _sigmoid(0.25 * np.log(df["p"] / (1 - df["p"]))).to_numpy()


def _noisy(seed):
    def f(df):
        z = np.log(df["p"] / (1 - df["p"])) + np.random.default_rng(seed).normal(0, 0.3, len(df))
        return _sigmoid(z).to_numpy()

    return f


def test_shadow_challenger_better_is_detected_early_and_promoted(registered, auth):
    ws, live = _challenger_run(registered, auth, _blunt, lambda df: df["p"].to_numpy())
    chain = [w["challenger"] for w in ws]
    assert all(ch["mode"] == "shadow" and ch["metric"] == "log_loss" for ch in chain)
    first = next(i for i, ch in enumerate(chain) if ch["decision"] != "continue")
    decided = chain[first]
    assert decided["decision"] == "challenger_better" and decided["lower"] > 0
    # early stop: later windows keep the decision and the rows it was reached on
    for ch in chain[first:]:
        assert ch["decided_at"] == decided["decided_at"] and ch["n"] == decided["n"]
    assert decided["n"] < 4500 and decided["labelled_pairs"] >= decided["n"]
    assert live["challenger"]["decision"] == "challenger_better"
    assert live["challenger"]["promotion"]["promote"] is True
    assert ws[-1]["loop_metrics"]["challenger_better"] == 1.0


def test_equal_challenger_is_not_promoted(registered, auth):
    ws, live = _challenger_run(registered, auth, _noisy(1), _noisy(2))
    assert [w["challenger"]["decision"] for w in ws] == ["continue"] * 3
    ch = live["challenger"]
    assert ch["n"] == 4500 and ch["lower"] < 0 < ch["upper"]
    assert ch["promotion"]["promote"] is False
    assert "not yet clear" in ch["promotion"]["reasons"][0]


def test_ab_split_worse_challenger_is_caught(registered, auth):
    _, live = _challenger_run(
        registered, auth, lambda df: df["p"].to_numpy(), _blunt, ab=True, hours=2
    )
    ch = live["challenger"]
    assert ch["mode"] == "ab" and ch["labelled_pairs"] == 1500
    assert ch["decision"] == "champion_better" and ch["upper"] < 0
    assert ch["promotion"]["promote"] is False


def _loop(df: pd.DataFrame, seed: int, *, censored: bool) -> tuple[list[dict], np.ndarray]:
    """A credit loop: label 1 is a bad outcome; the model approves when its score is
    under 0.5; 20% of cases are explored (approved with probability 0.5, whatever the
    model says). Censored: only approved cases' outcomes arrive. Returns the
    decision records and which labels arrive."""
    rng = np.random.default_rng(seed)
    n = len(df)
    by_model = df["score"].to_numpy() < 0.5
    explore = rng.random(n) < 0.2
    coin = rng.random(n) < 0.5
    approved = np.where(explore, coin, by_model)
    prop = np.where(explore, 0.5, 1.0)
    recs = [
        {
            "id": i,
            "approved": bool(a),
            "model_approved": bool(m),
            "explore": bool(e),
            "propensity": float(p),
        }
        for i, a, m, e, p in zip(df["id"], approved, by_model, explore, prop, strict=True)
    ]
    return recs, approved if censored else np.ones(n, dtype=bool)


def test_censored_approval_loop_is_measured_and_caught(registered, auth):
    c = registered
    assert c.put("/api/v1/models/churn/policy", json=BIAS_POLICY, headers=auth).status_code == 200
    truth = []
    for k, censored in enumerate([False, True]):
        df = _traffic(H + k, 3000, seed=200 + k)
        recs, seen = _loop(df, 300 + k, censored=censored)
        if not censored:  # clean: outcomes arrive whatever was decided
            recs = [{**r, "approved": True, "explore": False, "propensity": 1.0} for r in recs]
        _post(c, "predictions", _records(df), auth)
        _post(c, "decisions", recs, auth)
        _labels(c, df, auth, where=seen)
        declined = df["score"] >= 0.5
        truth.append(float(((df["score"] >= 0.5) == (df["y"] == 1))[declined].mean()))
    judge(c, now=(H + 2) * HOUR + 601)
    clean, loop = (w["feedback_loop"] for w in _windows(c, auth))
    assert clean["never_observable"] == 0 and clean["labelled_share"] == 1
    assert clean["labelled_vs_scored"]["psi"] is None  # nothing unlabelled to compare
    assert 0.25 < loop["observable_only_by_model"] < 0.45 and loop["never_observable"] > 0.3
    assert loop["labels_chosen_by_model"] > 0.75
    assert loop["labelled_vs_scored"]["psi"] > 0.25 and loop["labelled_vs_scored"]["p"] < 1e-6
    est = loop["unobserved_accuracy"]
    assert est["low"] <= truth[1] <= est["high"], (est, truth[1])
    assert "exploration" in loop["finding"] or "without the model" in loop["finding"]
    alerts = c.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert [(a["kind"], a["window_start"]) for a in alerts] == [
        ("censored", _windows(c, auth)[1]["start"])
    ]


def test_real_server_client_and_sigkill_keep_acknowledged_decisions(tmp_path):
    from assay.service import Client

    port = free_port()
    db = tmp_path / "server.db"
    proc = start_server(db, port)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN}"}
    try:
        with Client(url, ADMIN) as cl:
            cl.register_model(
                "churn", reference_frame(), target="y", prediction="pred", score="score"
            )
            df = _traffic(H, 600, seed=7)
            cols = ["id", "timestamp", "x", "colour", "prediction", "score"]
            assert cl.log_predictions("churn", df[cols]) == 600
            shadow = df[["id", "timestamp"]].assign(score=df["p"], prediction=df["prediction"])
            assert cl.log_predictions("churn", shadow, variant="challenger") == 600
            with pytest.raises(Exception, match="variant"):
                cl.log_predictions("churn", shadow, variant="canary")
            reviews = pd.DataFrame(_reviews(df, np.full(600, "stamp"), seed=1))
            assert cl.log_decisions("churn", reviews) == 600
            assert cl.log_labels("churn", df[["id"]].assign(label=df["y"])) == 600
            live = cl.challenger("churn")
            assert live["human_decisions"] == 600 and live["challenger"]["n"] > 0
        acked: list[str] = []
        errors: list[str] = []
        stop = threading.Event()

        def ingest() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
                batch = 0
                while not stop.is_set():
                    recs = [
                        {"id": f"d{batch}-{i}", "outcome": "accepted", "reviewer": "r1"}
                        for i in range(200)
                    ]
                    try:
                        resp = http.post("/api/v1/models/churn/decisions", json={"records": recs})
                    except httpx.TransportError:
                        return  # killed mid-request: that batch was not acknowledged
                    if resp.status_code != 200:
                        errors.append(resp.text)
                        return
                    acked.extend(r["id"] for r in recs)
                    batch += 1

        t = threading.Thread(target=ingest)
        t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 2000 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        stop.set()
        t.join(15)
        assert not errors, errors[:1]
        assert len(acked) >= 2000
        proc = start_server(db, port)
        body = httpx.get(f"{url}/api/v1/models/churn/challenger", headers=headers).json()
        assert body["human_decisions"] >= 600 + len(acked)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def _fill(c, auth, reviewer_b: str = "stamp") -> None:
    """Two hours with reviews, a censored loop, a shadow challenger and labels."""
    for k in range(2):
        df = _traffic(H + k, 600, seed=500 + k)
        _post(c, "predictions", _records(df), auth)
        who = np.where(np.arange(600) % 2 == 0, reviewer_b, "care")
        reviews = _reviews(df, who, seed=k, stamp=reviewer_b)
        loop, seen = _loop(df, 600 + k, censored=True)
        _post(c, "decisions", [{**r, **f} for r, f in zip(reviews, loop, strict=True)], auth)
        recs = [
            {"id": i, "timestamp": float(t), "score": float(s)}
            for i, t, s in zip(df["id"], df["timestamp"], _blunt(df), strict=True)
        ]
        _post(c, "challenger/predictions", recs, auth)
        _labels(c, df, auth, where=seen)


def test_dashboard_sections_explain_and_escape(registered, auth):
    from tests.service.test_dashboard import HOSTILE, _login, _security_headers

    c = registered
    _login(c)
    plain = c.get("/dashboard/models/churn?size=1h")
    assert plain.status_code == 200 and "Human review" not in plain.text  # no records, no section
    _fill(c, auth, reviewer_b=HOSTILE)
    page = c.get("/dashboard/models/churn?size=1h")
    assert page.status_code == 200
    _security_headers(page)
    text = page.text
    assert "<script" not in text.lower() and "&lt;script&gt;" in text  # the reviewer id, escaped
    for title in ("Human review", "Champion and challenger", "Feedback loop"):
        assert f"<h2>{title}</h2>" in text
    assert text.count("What this measures") == 3 and text.count("What to do") == 3
    assert "Rubber-stamping: &lt;script&gt;" in text
    assert "Promotion gate:" in text and "Labels come from a selected group" in text


@pytest.mark.skipif(
    not os.path.exists("/usr/bin/chromium"),
    reason="needs Debian's headless Chromium at /usr/bin/chromium (apt-get install chromium)",
)
def test_real_browser_shows_the_three_sections(server, tmp_path):
    from tests.service.test_dashboard import DevTools, _browse, _eval

    url, _, _ = server
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        ref = reference_frame()
        r = http.post(
            "/api/v1/models",
            json={
                "name": "churn",
                "target": "y",
                "prediction": "pred",
                "score": "score",
                "reference": ref.to_dict("records"),
            },
        )
        assert r.status_code == 201, r.text
        _fill(http, {})
    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        browser.send("Page.enable", {}, session)
        browser.send("Runtime.enable", {}, session)
        _browse(browser, session, "/dashboard/login", f"{url}/dashboard/models/churn?size=1h")
        token = json.dumps(ADMIN)
        _browse(
            browser,
            session,
            "/dashboard/models/churn",
            script=f"document.getElementById('token').value = {token}; "
            "document.querySelector('form').submit()",
        )
        heads = _eval(
            browser, session, "[...document.querySelectorAll('h2')].map(h => h.textContent)"
        )
        assert {"Human review", "Champion and challenger", "Feedback loop"} <= set(heads)
        body = _eval(browser, session, "document.getElementById('human-review').innerText")
        assert "Rubber-stamping: stamp" in body and "What to do" in body
        bar = _eval(
            browser,
            session,
            "document.querySelector('#challenger [role=img]').getBoundingClientRect().width",
        )
        assert bar > 100  # the running interval is drawn (inline styles pass the CSP)
        shot = browser.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session
        )
        png = tmp_path / "dashboard-human-loop.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        assert png.stat().st_size > 10_000
    finally:
        browser.close()
    artifacts = os.environ.get("ASSAY_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(artifacts) / png.name)
