"""Tables with planted drift, built so that the tests know every answer."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from assay.testing import run_check

PLANTED = ("shifted", "scaled", "reweighted", "new_codes")
"""Columns of :func:`planted_tables` whose distribution moves in current."""


def planted_tables(n_ref: int, n_cur: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current tables with drift planted in :data:`PLANTED`.

    ``shifted``: mean +0.5 std; ``scaled``: std x1.6; ``reweighted``: category
    shares moved; ``new_codes``: 20% of current takes codes never seen in the
    reference. ``steady``, ``count``, ``flag``, ``city`` and ``lumpy`` keep their
    distribution.
    """
    rng = np.random.default_rng(seed)
    cities = [f"city_{i:02d}" for i in range(30)]
    w = np.linspace(1, 3, 30)

    def table(n: int, drifted: bool) -> pd.DataFrame:
        codes = rng.choice(["A", "B", "C"], n)
        if drifted:
            novel = rng.random(n) < 0.2
            codes = np.where(novel, rng.choice(["X", "Y"], n), codes)
        return pd.DataFrame(
            {
                "steady": rng.normal(size=n),
                "shifted": rng.normal(0.5 if drifted else 0.0, 1.0, size=n),
                "scaled": rng.normal(0.0, 1.6 if drifted else 1.0, size=n),
                "lumpy": rng.gamma(2.0, 3.0, size=n),
                "count": rng.poisson(4, size=n),
                "flag": rng.random(n) < 0.3,
                "city": rng.choice(cities, n, p=w / w.sum()),
                "reweighted": rng.choice(
                    ["low", "mid", "high"], n, p=[0.2, 0.3, 0.5] if drifted else [0.5, 0.3, 0.2]
                ),
                "new_codes": codes,
            }
        )

    return table(n_ref, False), table(n_cur, True)


def drifted_columns(result) -> set[str]:
    """Columns named by ``drift.features``' warn/fail findings."""
    check = result.check("drift.features")
    return {f.column for f in check.findings if f.status in ("warn", "fail")}


run = partial(run_check, target="y", n_bootstrap=100)
"""One check through ``assay.audit`` (:func:`assay.testing.run_check`, target ``y``, 100
bootstrap resamples); pass the splits by keyword."""
