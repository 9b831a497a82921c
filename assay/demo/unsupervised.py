"""The demo's clustering and anomaly sections (``assay demo --task clustering`` or
``--task anomaly``), on the bundled UCI Adult data only: nothing is downloaded.

- **clustering**: customer segments. A k-means model (4 segments, standardised
  age, years of education and weekly hours) is fitted on Adult's ``train``
  split. The audit reads half of the ``test`` split as reference data and a
  sample of the other half as "current" data.
- **anomaly**: unusual records. An isolation forest is fitted on the numeric
  columns of the ``train`` split. In every split 1% of the rows are planted
  data-entry errors (an age of 0 or over 100, more than 100 hours a week, or
  99,999 capital gain on a part-time job), labelled in ``planted_error`` so
  that the audit can measure the detector on them.

The current data are real Adult rows, not invented ones: a weighted sample of
the other half of the test split in which people aged 50 and over are four
times as likely to be drawn, as after a data refresh that reaches an older
population. The audit should see that shift (feature drift, the segments'
shares, the flagged rate).

Example
-------
>>> frames, model = prepare("clustering")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from assay.demo.run_demo import load_adult

Task = Literal["clustering", "anomaly"]
TASKS: tuple[str, ...] = ("clustering", "anomaly")
SEED = 0
CLUSTER_FEATURES = ["age", "education_num", "hours_per_week"]
ANOMALY_FEATURES = [
    "age",
    "education_num",
    "hours_per_week",
    "capital_gain",
    "capital_loss",
]
LABEL = "planted_error"
ERROR_SHARE = 0.01
CURRENT_ROWS = 4000
OLDER_WEIGHT = 4.0  # people aged 50+ are this many times as likely to be in "current"
SENSITIVE = ["sex", "race"]

_OWNER_COMMON: dict[str, Any] = {
    "version": "demo",
    "owners": ["Nobody: a demonstration model built by assay demo"],
    "licence": "Apache-2.0 (the demo code); the UCI Adult data are under CC BY 4.0",
    "intended_users": ["People trying Assay"],
    "out_of_scope_uses": [
        "Any decision about a real person: credit, hiring, housing, insurance or benefits"
    ],
    "caveats": "Fitted on 1994 US census data: its segments say nothing about today.",
}
MODEL_CARDS: dict[str, dict[str, Any]] = {
    "clustering": {
        **_OWNER_COMMON,
        "name": "Assay demo: customer segments on UCI Adult",
        "intended_use": "Showing what an Assay clustering audit produces. Not for any real "
        "decision.",
        "ethical_considerations": (
            "Segments built on age, education and hours worked can line up with sex or race; "
            "the audit's clustering.fairness check looks for segments made mostly of one group."
        ),
    },
    "anomaly": {
        **_OWNER_COMMON,
        "name": "Assay demo: unusual census records on UCI Adult",
        "intended_use": "Showing what an Assay anomaly-detection audit produces. Not for any "
        "real decision.",
        "ethical_considerations": (
            "A record flagged as unusual is not a wrong record: rare but real people (very "
            "high earners, people working long hours) are flagged too."
        ),
    },
}


def _current(pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A sample of real rows in which people aged 50+ are ``OLDER_WEIGHT`` times as likely."""
    w = np.where(pool["age"].to_numpy() >= 50, OLDER_WEIGHT, 1.0)
    n = min(CURRENT_ROWS, len(pool))
    idx = rng.choice(len(pool), size=n, replace=False, p=w / w.sum())
    return pool.iloc[np.sort(idx)].reset_index(drop=True)


def _halves(test: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    perm = rng.permutation(len(test))
    half = len(test) // 2
    a = test.iloc[np.sort(perm[:half])].reset_index(drop=True)
    b = test.iloc[np.sort(perm[half:])].reset_index(drop=True)
    return a, b


def plant_errors(df: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """A copy of ``df`` with ``share`` of its rows made into data-entry errors, marked
    1 in ``planted_error`` (0 elsewhere). Four kinds, in turn: age 0, age 120-150,
    100-168 hours a week, capital gain 99,999 at under 20 hours a week."""
    out = df.copy()
    k = max(1, round(share * len(out)))
    rows = np.sort(rng.choice(len(out), size=k, replace=False))
    kinds = [rows[i::4] for i in range(4)]
    age, hours, gain = (out[c].to_numpy().copy() for c in ("age", "hours_per_week", "capital_gain"))
    age[kinds[0]] = 0
    age[kinds[1]] = rng.integers(120, 151, len(kinds[1]))
    hours[kinds[2]] = rng.integers(100, 169, len(kinds[2]))
    gain[kinds[3]] = 99999
    hours[kinds[3]] = rng.integers(1, 20, len(kinds[3]))
    out["age"], out["hours_per_week"], out["capital_gain"] = age, hours, gain
    label = np.zeros(len(out), dtype=np.int64)
    label[rows] = 1
    out[LABEL] = label
    return out


def build_model(task: str, train: pd.DataFrame) -> Any:
    """The demo's fitted model: k-means segments or an isolation forest."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "clustering":
        from sklearn.cluster import KMeans

        model = Pipeline(
            [
                ("scale", StandardScaler()),
                ("segments", KMeans(n_clusters=4, n_init=4, random_state=SEED)),
            ]
        )
        return model.fit(train[CLUSTER_FEATURES])
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=150, contamination=0.02, random_state=SEED)
    return forest.fit(train[ANOMALY_FEATURES])


def prepare(task: str) -> tuple[dict[str, pd.DataFrame], Any]:
    """The frames (``train``, ``test``, ``current``) and the fitted model of a demo task.

    The target column ``income`` is dropped: these models do not predict it.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    rng = np.random.default_rng(SEED)
    train, test = load_adult()
    train, test = train.drop(columns="income"), test.drop(columns="income")
    reference, pool = _halves(test, rng)
    current = _current(pool, rng)
    if task == "anomaly":
        train = plant_errors(train, rng, ERROR_SHARE)
        reference = plant_errors(reference, rng, ERROR_SHARE)
        current = plant_errors(current, rng, ERROR_SHARE)
    return {"train": train, "test": reference, "current": current}, build_model(task, train)


def config(task: str, n_bootstrap: int) -> dict[str, Any]:
    """The audit configuration of a demo task."""
    cfg: dict[str, Any] = {
        "task": task,
        "sensitive": SENSITIVE,
        "seed": SEED,
        "n_bootstrap": n_bootstrap,
        "model_card": MODEL_CARDS[task],
    }
    if task == "anomaly":
        cfg["target"] = LABEL
        cfg["positive_label"] = 1
        cfg["thresholds"] = {"anomaly.rate": {"contamination": 0.02}}
    return cfg


def describe(task: str) -> str:
    """One line saying what the demo audited and which data are simulated."""
    if task == "clustering":
        what = "4 k-means segments of UCI Adult (age, education, weekly hours)"
    else:
        what = (
            "an isolation forest on UCI Adult's numeric columns, with 1% planted data-entry "
            f"errors labelled in '{LABEL}'"
        )
    return (
        f"Demo ({task}): {what}; current data = real test rows sampled with people aged 50+ "
        f"{OLDER_WEIGHT:g} times as likely."
    )
