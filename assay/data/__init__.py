"""Data checks: integrity, train/test overlap, target leakage, provenance.

Importing this package registers ``data.integrity``, ``data.train_test_overlap``,
``data.target_leakage`` and ``data.provenance``.
"""

from assay.data import integrity, leakage, overlap, provenance  # noqa: F401  (imported to register the checks)
