"""Drift checks: has production data moved away from what the model learned?

Importing this package registers its checks:

- ``drift.features`` — per-column drift, the test chosen by type and size as
  Evidently does (KS / chi-square / proportion tests on small samples,
  Wasserstein / Jensen–Shannon distances on large ones), PSI for every column,
  multiple-testing correction, the share of drifted columns as the headline;
- ``drift.prediction`` — the same on the model's scores and predicted classes;
- ``drift.target`` — the same on the target, when current data has labels;
- ``drift.multivariate`` — a domain classifier's held-out ROC-AUC with its
  bootstrap interval, and the features that separate current from reference.

In ``assay.audit(..., current=...)`` the reference is train when given, else
test. :func:`drift` compares two tables directly (``assay drift``), in
process or on a Dask cluster; statistics come from :mod:`assay.engine`.

:func:`drift` runs the checks as ``assay.audit`` does, so it lives beside it
(:mod:`assay.core.drift_api`, above the checks in the import layers); this
package names it too, read on first use, as ``assay.drift.drift``.
"""

from typing import Any

from assay.drift import features, multivariate, prediction, target


def __getattr__(name: str) -> Any:
    """``drift``, from :mod:`assay.core.drift_api` on first use (PEP 562)."""
    if name == "drift":
        from assay.core.drift_api import drift

        globals()["drift"] = drift
        return drift
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["drift", "features", "multivariate", "prediction", "target"]
