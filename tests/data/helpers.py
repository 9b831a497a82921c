"""Data with planted problems, built so that the tests know every answer."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from assay.testing import run_check

run = partial(run_check, target="y")
"""``run(check_id, test, train=None, current=None, *, model=None, **config)``: one check
through ``assay.audit`` (:func:`assay.testing.run_check`, target ``y``)."""


def by_column(result, column: str, split: str | None = None):
    """The findings of ``result`` about ``column`` (in ``split`` when given)."""
    return [
        f for f in result.findings if f.column == column and (split is None or f.split == split)
    ]


def planted_integrity(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A frame where every integrity problem is planted at a known place.

    - ``income_2``: missing in rows ``i % 5 in (0, 1)`` (40%)
    - ``mostly_empty``: missing in 60% of rows; ``empty``: missing everywhere
    - ``ratio``: +inf in row 30, -inf in row 300
    - ``country``: always ``"FR"``; ``rare_flag``: non-zero in 4 rows of 1000
    - ``amount_text``: numbers as text, with ``"NA"`` and ``"?"`` in 5% of rows each
    - ``customer_id``: a distinct id per row (an identifier)
    - rows 900-919 repeat rows 40-59 exactly (2% duplicates)
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    amount = rng.integers(10, 999, size=n).astype(str).astype(object)
    amount[i % 20 == 3] = "NA"
    amount[i % 20 == 13] = "?"
    ratio = rng.normal(size=n)
    ratio[30], ratio[300] = np.inf, -np.inf
    columns = {
        "customer_id": 100_000 + i,
        "age": rng.integers(18, 90, size=n),
        "income_2": np.where(i % 5 < 2, np.nan, rng.normal(50, 10, size=n)),
        "mostly_empty": np.where(i % 5 < 3, np.nan, rng.normal(size=n)),
        "empty": np.full(n, np.nan),
        "ratio": ratio,
        "country": np.full(n, "FR", dtype=object),
        "rare_flag": (i % 250 == 7).astype(int) * 5,
        "amount_text": amount,
        "y": rng.integers(0, 2, size=n),
    }
    for values in columns.values():
        values[900:920] = values[40:60]
    return pd.DataFrame(columns)


def clean_binary(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A clean binary task with moderately informative features (AUC ~0.6-0.8 each)."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    colour = rng.choice(["red", "green", "blue", "grey"], size=n)
    logit = 1.2 * x1 - 0.8 * x2 + 0.4 * x3 + (colour == "red") * 0.8
    y = (logit + rng.logistic(size=n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "colour": colour, "y": y})
