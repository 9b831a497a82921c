"""Refitting a clustering model on resampled or permuted data.

With a model, the refit is ``clone(model)`` fitted on the model's own input
columns; without one (a column of clusters was given) the reference procedure
is k-means with the same number of clusters on the standardised view, and the
results say so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NOISE = "-1"  # DBSCAN-style label of unassigned rows


def sorted_labels(labels: np.ndarray) -> list[str]:
    """Cluster names in natural order (numbers numerically), noise last."""
    uniq = [u for u in np.unique(labels).tolist()]

    def key(u: str) -> tuple:
        try:
            return (0, float(u), u)
        except ValueError:
            return (1, 0.0, u)

    return sorted(uniq, key=key)


class Refitter:
    """Fits the clustering procedure again on other rows of the same data.

    ``frame`` is the model's input (pandas, canonical order) and ``X`` the
    standardised view in the same row order; ``k`` the number of clusters
    found (for the k-means stand-in).
    """

    def __init__(self, model: Any, frame: Any, X: np.ndarray, k: int, seed: int) -> None:
        self.model = model
        self.frame = frame
        self.X = X
        self.k = max(2, k)
        self.seed = seed
        self.uses_model = model is not None
        self.can_predict = model is None or hasattr(model, "predict")

    @property
    def procedure(self) -> str:
        if self.uses_model:
            return f"refits of the model ({type(self.model).__name__})"
        return f"k-means with k={self.k} on the standardised features (no model was given)"

    def _fresh(self, i: int) -> Any:
        from sklearn.base import clone

        m = clone(self.model)
        if "random_state" in m.get_params():
            m.set_params(random_state=int(self.seed) * 1000 + i)
        return m

    def fit_labels(self, fit_rows: np.ndarray, eval_rows: np.ndarray, i: int) -> np.ndarray:
        """Fit on ``fit_rows`` and label ``eval_rows`` (row indexes into the data).

        Models without ``predict`` label the fitted rows themselves; then
        ``eval_rows`` must be a subset of ``fit_rows`` (the caller's job).
        """
        if not self.uses_model:
            from sklearn.cluster import KMeans

            km = KMeans(n_clusters=self.k, n_init=2, random_state=self.seed * 1000 + i)
            km.fit(self.X[fit_rows])
            return km.predict(self.X[eval_rows]).astype(str)
        m = self._fresh(i)
        fit_frame = self.frame.iloc[fit_rows]
        if self.can_predict:
            m.fit(fit_frame)
            return np.asarray(m.predict(self.frame.iloc[eval_rows])).astype(str)
        labels = np.asarray(m.fit_predict(fit_frame)).astype(str)
        pos = {int(r): j for j, r in enumerate(fit_rows)}
        return labels[[pos[int(r)] for r in eval_rows]]

    def fit_permuted(self, rows: np.ndarray, rng: np.random.Generator, i: int) -> tuple:
        """Permute each column independently over ``rows``, refit and label them.

        Returns the permuted standardised view and its labels (structure between
        columns removed, each column's distribution kept).
        """
        n = rows.size
        Xp = self.X[rows].copy()
        if not self.uses_model:
            for j in range(Xp.shape[1]):
                Xp[:, j] = Xp[rng.permutation(n), j]
            from sklearn.cluster import KMeans

            km = KMeans(n_clusters=self.k, n_init=2, random_state=self.seed * 1000 + i)
            return Xp, km.fit_predict(Xp).astype(str)
        frame = self.frame.iloc[rows].reset_index(drop=True)
        perms = {c: rng.permutation(n) for c in frame.columns}
        for c in frame.columns:
            frame[c] = frame[c].to_numpy()[perms[c]]
        for j, src in enumerate(self.sources):
            if src in perms:
                Xp[:, j] = Xp[perms[src], j]
        m = self._fresh(i)
        if self.can_predict:
            m.fit(frame)
            return Xp, np.asarray(m.predict(frame)).astype(str)
        return Xp, np.asarray(m.fit_predict(frame)).astype(str)

    sources: tuple[str, ...] = ()
