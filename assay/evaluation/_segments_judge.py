"""The verdicts of ``evaluation.weak_segments``: numbers in, status and reason out.

No data here: :mod:`assay.evaluation._segments_search` measures every segment, these
functions decide (testable in microseconds), and :mod:`assay.evaluation._segments_describe`
writes the sentences and charts.
"""

from __future__ import annotations

import math

from assay.core.result import Status


def judge_segment(
    q: float,
    effect: float,
    *,
    fdr: float,
    warn_effect: float,
    fail_effect: float,
    material_p: float = 0.0,
) -> tuple[Status, str]:
    """The verdict on one segment from its numbers alone.

    ``q``: its q-value (two Benjamini–Hochberg families, see
    :func:`~assay.evaluation._segments_search.family_q`);
    ``effect``: how much worse it is (error-rate gap, or MAE ratio minus one);
    ``material_p``: the p-value of its own test against "worse by at most
    ``warn_effect``" (0 where no such test is made). A segment warns when it is a
    discovery (``q <= fdr``) AND materially worse (``effect >= warn_effect`` and
    ``material_p <= fdr``: its one-sided interval lies above the warning gap), and fails
    when it is also worse by ``fail_effect``.

    >>> judge_segment(0.01, 0.2, fdr=0.05, warn_effect=0.05, fail_effect=0.15)[0]
    'fail'
    >>> judge_segment(0.01, 0.2, fdr=0.05, warn_effect=0.05, fail_effect=0.15, material_p=0.2)[0]
    'pass'
    """
    if not q <= fdr:
        return "pass", f"not a discovery (q = {q:.3g} > {fdr:g})"
    if effect < warn_effect:
        return "pass", f"clear but not material (effect {effect:.3g} < {warn_effect:g})"
    if not material_p <= fdr:
        return "pass", (
            f"clear but not clearly material (p = {material_p:.3g} > {fdr:g} against a gap "
            f"of at most {warn_effect:g})"
        )
    if effect >= fail_effect:
        return "fail", f"q = {q:.3g}, effect {effect:.3g} >= {fail_effect:g}"
    return "warn", f"q = {q:.3g}, effect {effect:.3g} >= {warn_effect:g}"


def judge_pair(
    effect: float,
    parents: tuple[float, ...],
    overlap: float,
    single_effect: float | None,
    *,
    margin: float,
    same_rows: float = 0.8,
) -> tuple[bool, str]:
    """Whether a pair of conditions is worth reporting over simpler predicates.

    A pair adds only when it is worse than each of its two single conditions by at least
    ``margin``; and it gives way to a single condition whose rows are nearly its own
    (Jaccard ``overlap >= same_rows``) unless it is worse than that condition by at
    least ``margin`` (a slice on one column is not reported as two proxies of it).

    >>> judge_pair(0.3, (0.1, 0.1), 0.9, 0.29, margin=0.025)[0]
    False
    """
    tol = 1e-12
    worst_parent = max(parents, default=-math.inf)
    if effect < worst_parent + margin - tol:
        return False, f"not worse than its single conditions by {margin:g}"
    explained = single_effect is not None and overlap >= same_rows - tol
    if explained and single_effect is not None and effect < single_effect + margin - tol:
        return False, (f"a single condition covers {overlap:.0%} of the same rows about as badly")
    return True, "adds to its single conditions"
