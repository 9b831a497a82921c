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
"""

from assay.drift import features, multivariate, prediction, target
from assay.drift._api import drift

__all__ = ["drift", "features", "multivariate", "prediction", "target"]
