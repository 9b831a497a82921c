"""``security.adversarial``: ART HopSkipJump through the model's predict, in std units."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import assay.security.adversarial  # noqa: F401  (registers the check)
from assay.core.audit import build_context, run_check
from assay.core.config import AuditConfig
from assay.core.registry import SkipCheck, get_check
from assay.security._attack import Lockstep, import_art
from assay.security._evasion import build_space

from ..conftest import fit_logreg, make_binary

pytest.importorskip("art")

CHECK = "security.adversarial"


def _split(n: int = 1400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = make_binary(n, seed=seed)
    half = n // 2
    return df.iloc[:half].reset_index(drop=True), df.iloc[half:].reset_index(drop=True)


def _run(train, test, model, **th):
    cfg = AuditConfig(target="y", n_bootstrap=100, seed=3, thresholds={CHECK: th} if th else {})
    ctx = build_context(train=train, test=test, current=None, model=model, config=cfg,
                        trust_model=False)  # fmt: skip
    return run_check(get_check(CHECK), ctx), ctx


class Jagged:
    """A planted fragile classifier: its decision flips every 0.02 units of ``x1``."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = (np.sin(150 * np.asarray(X["x1"], dtype=float)) > 0).astype(float) * 0.8 + 0.1
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class Spy:
    """Wraps a model and records every row it is asked about."""

    def __init__(self, model) -> None:
        self.model = model
        self.classes_ = model.classes_
        self.seen: list[pd.DataFrame] = []
        self._lock = threading.Lock()

    def predict(self, X):
        with self._lock:
            self.seen.append(X.copy())
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def test_planted_fragile_model_fails_and_names_the_feature():
    train, test = _split()
    r, _ = _run(train, test, Jagged(), n_rows=30)
    assert r.status == "fail", r.summary
    assert r.metrics["success_rate"] > 0.9
    assert "'x1'" in r.summary
    assert r.findings[0].rows and r.findings[0].split == "test"


def test_overfit_nearest_neighbour_is_flagged():
    """1-NN on noisy labels has a decision boundary around every training point."""
    from sklearn.compose import make_column_transformer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, test = _split()
    noisy = train.copy()
    flip = np.random.default_rng(0).random(len(noisy)) < 0.3
    noisy.loc[flip, "y"] = 1 - noisy.loc[flip, "y"]
    pre = make_column_transformer(
        (OneHotEncoder(), ["colour"]), (StandardScaler(), ["x1", "x2", "noise"])
    )
    knn = make_pipeline(pre, KNeighborsClassifier(1)).fit(noisy.drop(columns="y"), noisy["y"])
    clean, _ = _run(train, test, fit_logreg(train), n_rows=20)
    r, _ = _run(train, test, knn, n_rows=20)
    assert r.status in ("warn", "fail"), r.summary
    assert r.metrics["success_rate"] > clean.metrics["success_rate"] + 0.2
    assert r.metrics["median_min_perturbation_std"] < clean.metrics["median_min_perturbation_std"]


def test_logistic_regression_passes_and_matches_the_exact_answer():
    """For a linear model the smallest L∞ change is known in closed form; the bounded
    attack lands close to it (it can only overestimate)."""
    train, test = _split()
    model = fit_logreg(train)
    r, ctx = _run(train, test, model, n_rows=40)
    assert r.status == "pass", r.summary
    space, _ = build_space(ctx, 40)
    clf = model.named_steps["clf"]
    scaler = model.named_steps["pre"].named_transformers_["num"]
    coef = clf.coef_[0][-3:]  # the numeric block comes after the 3 one-hot columns
    per_std = np.sum(np.abs(coef) * space.std / scaler.scale_)
    exact = np.abs(model.decision_function(space.frame.to_pandas())) / per_std
    variant = r.details["variants"][0]
    for row in variant["budgets"]:
        truth = float(np.mean(exact <= row["budget_std"]))
        assert row["value"] <= truth + 1e-9
        assert row["value"] >= truth - 0.1, (row, truth)
    med = r.metrics["median_min_perturbation_std"]
    assert np.median(exact) * 0.85 <= med <= np.median(exact) * 1.3


def test_mutable_variant_changes_only_mutable_numeric_features():
    train, test = _split()
    spy = Spy(fit_logreg(train))
    r, _ = _run(train, test, spy, n_rows=12, mutable=["x2", "colour"])
    names = [v["variant"] for v in r.details["variants"]]
    assert names == ["all_numeric", "mutable"]
    mutable = r.details["variants"][1]
    assert mutable["perturbed_features"] == ["x2"]
    assert "colour" in mutable["fixed_features"]
    assert "mutable_success_rate" in r.metrics
    # Every query kept 'colour' in its domain and at the attacked row's own value.
    asked = pd.concat(spy.seen, ignore_index=True)
    assert set(asked["colour"]) <= set(test["colour"])
    originals = set(map(tuple, test[["colour", "x1", "x2", "noise"]].itertuples(index=False)))
    by_noise = {round(t[3], 9): t[0] for t in originals}
    mutable_only = asked[asked["x1"].isin(test["x1"]) & asked["noise"].isin(test["noise"])]
    assert (mutable_only["noise"].round(9).map(by_noise) == mutable_only["colour"]).all()


def test_unknown_mutable_column_is_an_error():
    train, test = _split(600)
    r, _ = _run(train, test, fit_logreg(train), n_rows=10, mutable=["nope"])
    assert r.status == "error" and "nope" in r.summary


def test_multiclass_runs():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    X["y"] = np.digitize(X["a"] + 0.5 * X["b"] + rng.normal(0, 0.3, 600), [-0.5, 0.5])
    m = LogisticRegression().fit(X[["a", "b"]], X["y"])
    r, _ = _run(X.iloc[:300], X.iloc[300:].reset_index(drop=True), m, n_rows=15)
    assert r.status in ("pass", "warn", "fail") and r.metrics["rows_attacked"] == 15


def test_regression_and_prediction_columns_are_skipped():
    _, test = _split(400)
    assert "regression" not in get_check(CHECK).tasks
    cfg = AuditConfig(target="y", prediction="p", n_bootstrap=0)
    t = test.assign(p=test["y"])
    ctx = build_context(train=None, test=t, current=None, model=None, config=cfg,
                        trust_model=False)  # fmt: skip
    r = run_check(get_check(CHECK), ctx)
    assert r.status == "skipped" and "model itself" in r.summary


def test_missing_art_skips_naming_the_extra(monkeypatch):
    import importlib

    real = importlib.import_module

    def no_art(name, *a, **k):
        if name.startswith("art"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", no_art)
    with pytest.raises(SkipCheck, match=r"assay\[security\]"):
        import_art("art.attacks.evasion.hop_skip_jump")


def test_lockstep_batches_rounds_in_a_fixed_order():
    asked: list[list[int]] = []

    def answer(batch):
        asked.append([k for k, _ in batch])
        return [z * 2 for _, z in batch]

    lock = Lockstep(answer)
    trace: list[tuple[int, int]] = []

    def job(k: int, steps: int):
        total = 0
        for s in range(steps):
            trace.append((k, s))
            total += int(lock.ask(k, np.array([k + s]))[0])
        return total

    out = lock.run([lambda k=k: job(k, k + 1) for k in range(4)])
    assert out == [0, 2 + 4, 4 + 6 + 8, 6 + 8 + 10 + 12]
    assert asked == [[0, 1, 2, 3], [1, 2, 3], [2, 3], [3]]
    assert trace == sorted(trace, key=lambda t: (t[1], t[0]))  # round by round, in order


def test_lockstep_propagates_errors():
    def answer(batch):
        raise ValueError("model broke")

    lock = Lockstep(answer)
    with pytest.raises(ValueError, match="model broke"):
        lock.run([lambda k=k: lock.ask(k, np.zeros(1)) for k in range(3)])


def _warn_share(n_rows: int, rate: float, draws: int = 30) -> float:
    """Share of draws of ``n_rows`` attacked rows, each flipped within the budget with
    probability ``rate``, that the check's own interval and judge call ``warn`` or worse."""
    from types import SimpleNamespace

    from assay.core.registry import get_check
    from assay.security.adversarial import _variant_stats, judge_adversarial

    th = get_check("security.adversarial").thresholds
    ctx = SimpleNamespace(settings=SimpleNamespace(n_bootstrap=300, seed=0, confidence=0.95))
    rng = np.random.default_rng(7)
    alarms = 0
    for _ in range(draws):
        flipped = rng.random(n_rows) < rate
        dist = np.where(flipped, th["budget"] / 2, th["budget"] * 4)
        st = _variant_stats(dist, list(th["budgets"]), th["budget"], ctx)
        status, _ = judge_adversarial(st["success"].value, st["success"].low, th)
        alarms += status != "pass"
    return alarms / draws


def test_default_sample_is_large_enough_for_a_fragile_model_to_warn_every_time():
    # A model whose decisions flip within the budget for 40% of rows (the clean
    # audits' fragile cases): 50 attacked rows warned on only some test sets, so the
    # warning did not replicate; the default sample warns on nearly all of them.
    from assay.core.registry import get_check

    default = get_check("security.adversarial").thresholds["n_rows"]
    assert _warn_share(default, 0.40) >= 0.9
    assert _warn_share(50, 0.40) < 0.9
    # and a robust model (10% flip) stays quiet with the larger sample too
    assert _warn_share(default, 0.10) == 0.0


def _two_stage(rate: float, draws: int, seed: int) -> tuple[float, float]:
    """Share of draws that warn under the check's rule (300 rows, 300 more when the first
    verdict sits near the line), and the share of those warnings that a fresh sample,
    judged the same way, warns again on."""
    from types import SimpleNamespace

    from assay.security.adversarial import _variant_stats, judge_adversarial, needs_more_rows

    th = get_check(CHECK).thresholds
    ctx = SimpleNamespace(settings=SimpleNamespace(n_bootstrap=300, seed=0, confidence=0.95))
    rng = np.random.default_rng(seed)
    first, extra = int(th["n_rows"]), int(th["confirm_rows"])

    def verdict() -> bool:
        flipped = rng.random(first + extra) < rate
        dist = np.where(flipped, th["budget"] / 2, th["budget"] * 4)
        for n in (first, first + extra):
            st = _variant_stats(dist[:n], list(th["budgets"]), th["budget"], ctx)["success"]
            status, _ = judge_adversarial(st.value, st.low, th)
            if n == first and needs_more_rows(st.value, st.low, th):
                continue
            return status != "pass"
        raise AssertionError("unreachable")

    warned = [verdict() for _ in range(draws)]
    again = [verdict() for w in warned if w]
    return sum(warned) / draws, (sum(again) / len(again) if again else 1.0)


def test_a_verdict_near_the_line_attacks_more_rows_before_it_warns():
    # A model whose true flip rate sits at the 25% line: 300 rows warned on some test
    # sets and a fresh sample rarely agreed (a weather forest in the verdict harness:
    # 31% on its test set, 23-26% on three fresh ones). Near-the-line warnings now
    # attack 300 more rows first, so such a model warns less often...
    one_stage = _warn_share(300, 0.27, draws=60)
    warn_at_line, _ = _two_stage(0.27, draws=60, seed=11)
    assert warn_at_line < one_stage
    at_line, _ = _two_stage(0.25, draws=60, seed=12)
    assert at_line <= 0.05
    # ...while a clearly fragile model (40%) still warns every time, and its warnings
    # recur on a fresh sample.
    fragile, recur = _two_stage(0.40, draws=30, seed=13)
    assert fragile == 1.0 and recur == 1.0


def test_a_row_that_asks_too_many_questions_keeps_its_start(monkeypatch):
    # ART's step search halves its step until the point is adversarial; on a boundary that
    # float32 rounding hides it never is, and a real gradient-boosted model hung an audit
    # for 20 minutes. Each row now stops at MAX_ASKS_PER_ROW questions and keeps its
    # starting point (bisected back to the boundary), so the check still ends with a verdict.
    import assay.security._evasion as evasion

    train, test = _split(600)
    full, _ = _run(train, test, fit_logreg(train), n_rows=20)
    monkeypatch.setattr(evasion, "MAX_ASKS_PER_ROW", 2)
    capped, _ = _run(train, test, fit_logreg(train), n_rows=20)
    assert full.details["attack_limits"]["rows_capped"] == 0
    assert capped.details["attack_limits"]["rows_capped"] > 0
    assert capped.metrics["rows_flipped_anywhere"] == full.metrics["rows_flipped_anywhere"]
    # the starts are upper bounds: capping can only make the smallest change found larger
    assert (
        capped.metrics["median_min_perturbation_std"] >= full.metrics["median_min_perturbation_std"]
    )
