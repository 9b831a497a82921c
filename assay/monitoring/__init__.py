"""Monitoring checks and the pure logic behind the service: label-free
performance estimation, retraining-trigger policies, webhook delivery,
promotion decisions.

Importing this package registers its check:

- ``monitoring.estimated_performance`` — expected accuracy, precision, recall,
  F1 and ROC-AUC on unlabeled current data from calibrated scores (CBPE);
- ``monitoring.human_oversight`` — automation bias of human reviewers from a
  decisions table (:mod:`assay.monitoring.human`).

Plain functions the service calls (light to import; no web framework):

- :func:`estimate_performance` (:mod:`assay.monitoring._cbpe`);
- :mod:`assay.monitoring.policy` — trigger policies and ``evaluate``;
- :mod:`assay.monitoring.webhook` — signed webhook and command actions;
- :mod:`assay.monitoring.promote` — champion/challenger decisions;
- :mod:`assay.monitoring.feedback` — feedback-loop measures (censored labels, IPW);
- :mod:`assay.monitoring.sequential` — always-valid champion/challenger comparison.

The service itself (FastAPI, store, client) lives in :mod:`assay.service`.
"""

from assay.monitoring import estimation, human
from assay.monitoring._cbpe import estimate_performance

__all__ = ["estimate_performance", "estimation", "human"]
