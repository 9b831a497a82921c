"""Details type of ``clustering.sizes`` (re-exported by ``assay.unsupervised.clustering``),
light to import: the HTML report draws its map without loading scikit-learn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assay.core.details import Details, Record


@dataclass(frozen=True)
class Projection(Record):
    """A sample of rows on the first two principal components, with their cluster (the
    HTML report draws it)."""

    x: tuple[float | None, ...]
    y: tuple[float | None, ...]
    cluster: tuple[str | int, ...]
    explained: tuple[float | None, ...]


@dataclass(frozen=True)
class ClusterSizesDetails(Details):
    """What ``clustering.sizes`` keeps in its ``details`` (``report.json``)."""

    sizes: Mapping[str, int]
    projection: Projection
