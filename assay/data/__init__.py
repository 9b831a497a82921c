"""Data checks: integrity, train/test overlap, target leakage, provenance, label
errors, representativeness.

Importing this package registers ``data.integrity``, ``data.train_test_overlap``,
``data.target_leakage``, ``data.provenance``, ``data.label_issues`` and
``data.representativeness``.
"""

from assay.data import (  # noqa: F401  (imported to register the checks)
    integrity,
    label_issues,
    leakage,
    overlap,
    provenance,
    representativeness,
)
