"""Time the model-attack checks (security.adversarial, membership_inference,
attribute_inference) and compare the adversarial check with plain ART.

Run by hand: ``.venv/bin/python bench/security_attacks.py [--plain-art]``. Prints a Markdown
table for ``docs/benchmarks.md``. Scenarios:

- ``common``: the test suite's scenario (binary logistic-regression pipeline,
  train 1,500 / test 900 rows, 3 numeric + 1 categorical feature);
- ``wide``: 10 numeric features, an MLP, train 5,000 / test 50,000 rows (the
  attacks sample: 50 rows for evasion, 5,000 per side for membership, 3,000 for
  attribute inference).

The last line times ART's HopSkipJump the usual way (``generate`` on the 50
rows, one model call per query) with the same iteration budget, to show what
the lockstep batching saves.
"""

from __future__ import annotations

import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import assay.security  # noqa: F401
from assay.core.audit import build_context, run_check
from assay.core.config import AuditConfig
from assay.core.registry import get_check

IDS = ("security.adversarial", "security.membership_inference", "security.attribute_inference")


def common():
    from tests.conftest import fit_logreg, make_binary

    df = make_binary(3000, seed=1)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:2400].reset_index(drop=True)
    return train, test, fit_logreg(train), ["colour"]


def wide():
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    n, d = 55_000, 10
    X = pd.DataFrame(rng.normal(size=(n, d)), columns=[f"f{i}" for i in range(d)])
    X["group"] = rng.choice(["a", "b", "c"], size=n)
    logit = X.iloc[:, :d].to_numpy() @ rng.normal(size=d) + np.sin(3 * X["f0"])
    X["y"] = (logit + rng.logistic(size=n) > 0).astype(int)
    train, test = X.iloc[:5000], X.iloc[5000:].reset_index(drop=True)
    feats = [f"f{i}" for i in range(d)]
    model = MLPClassifier((32,), max_iter=300, random_state=0).fit(train[feats], train["y"])
    return train, test, model, ["group"]


def plain_art(ctx, n_rows=50, max_iter=4):
    """ART's HopSkipJump as usually called: one model call per query, row after row."""
    from art.attacks.evasion import HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    from assay.security._evasion import Model, build_space

    space, _ = build_space(ctx, n_rows)
    model = Model(ctx, space)
    cols = np.arange(len(space.numeric))
    k = len(ctx.classes)

    def predict(z):
        base = np.zeros(len(z), dtype=int)  # row 0's categorical values for every query
        codes = model.decide(base, cols, z.astype(np.float32))
        out = np.zeros((len(z), k), dtype=np.float32)
        out[np.arange(len(z)), np.maximum(codes, 0)] = 1
        return out

    clf = BlackBoxClassifier(
        predict, input_shape=(len(cols),), nb_classes=k, clip_values=space.clip
    )
    attack = HopSkipJump(clf, norm=np.inf, max_iter=max_iter, max_eval=60, init_eval=20,
                         init_size=20, verbose=False)  # fmt: skip
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attack.generate(space.z32)
    return time.perf_counter() - t, model.calls


def main() -> None:
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}")
    print("| scenario | rows (train / test) | check | status | time |")
    print("| --- | ---: | --- | --- | ---: |")
    for name, make in (("common", common), ("wide", wide)):
        train, test, model, sensitive = make()
        cfg = AuditConfig(target="y", n_bootstrap=500, seed=0, sensitive=sensitive)
        ctx = build_context(train=train, test=test, current=None, model=model, config=cfg,
                            trust_model=False)  # fmt: skip
        for cid in IDS:
            t = time.perf_counter()
            r = run_check(get_check(cid), ctx)
            dt = time.perf_counter() - t
            extra = f" ({r.metrics.get('model_calls')} model calls)" if "adversarial" in cid else ""
            rows = f"{len(train):,} / {len(test):,}"
            print(f"| {name} | {rows} | `{cid}` | {r.status} | {dt:.2f} s{extra} |")
        if name == "common" and "--plain-art" in sys.argv:
            secs, calls = plain_art(ctx)
            what = "plain ART HopSkipJump, same budget"
            print(f"| {name} | — | {what} | — | {secs:.2f} s ({calls} model calls) |")


if __name__ == "__main__":
    main()
