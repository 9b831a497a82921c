"""Shared statistics with no dependency above NumPy: the bottom layer the checks
build on (issue 15 moves the bootstrap, metrics and cut points here too).

>>> holm([0.01, 0.04]).tolist()
[0.02, 0.04]
"""

from assay.stats._multiple import holm

__all__ = ["holm"]
