"""Checks for models without a target to predict: clustering and anomaly detection.

Importing this package registers its checks (``--task clustering`` or
``--task anomaly``; they run only for their task):

- ``clustering.quality`` — silhouette, Davies-Bouldin, Calinski-Harabasz against a
  per-column permutation null;
- ``clustering.stability`` — ARI of bootstrap refits and per-cluster best-match Jaccard;
- ``clustering.sizes`` — shares with intervals, tiny clusters, a 2-D map;
- ``clustering.profiles`` — the features that set each cluster apart, with effect sizes;
- ``clustering.fairness`` — clusters made mostly of one sensitive group;
- ``clustering.drift`` — assignment shares and each cluster's members, reference vs current;
- ``anomaly.rate`` — the flagged rate with an interval, against a stated contamination;
- ``anomaly.rate_drift`` — the flagged rate in current data against the reference;
- ``anomaly.detection`` — precision, recall and PR-AUC against known labels;
- ``anomaly.drivers`` — the features that set flagged rows apart.
"""

from assay.unsupervised import anomaly, cluster_drift, clustering, segments

__all__ = ["anomaly", "cluster_drift", "clustering", "segments"]
