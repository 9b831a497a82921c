"""Fairness checks: does the model treat groups of people alike?

Importing this package registers its checks:

- ``fairness.group_metrics`` — per-group metrics with intervals (Fairlearn's
  ``MetricFrame``), demographic parity, the four-fifths rule, equalized odds,
  intersectional groups; groups too small to judge are reported as such.

Fairlearn is an optional dependency (``pip install 'assay[fairness]'``),
imported only when the check runs.
"""

from assay.fairness import group_metrics

__all__ = ["group_metrics"]
