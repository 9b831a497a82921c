"""The search behind ``evaluation.weak_segments`` (private): every segment of one or two
conditions tested against the rest of the rows, q-values in two Benjamini–Hochberg
families, and the choice among overlapping discoveries. Numbers in, numbers out: no
sentence is written here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.evaluation._segments_columns import Column
from assay.evaluation._segments_judge import judge_pair


@dataclass(frozen=True)
class Losses:
    """Each sampled row's loss, and the overall means segments are compared with."""

    raw: np.ndarray  # 0/1 error, or absolute error (regression)
    expected: np.ndarray | None  # the error the model's own output expects, row by row
    loss: np.ndarray  # the judged loss (raw, or beyond what was expected)
    regression: bool
    unexpected: bool  # judged on the errors the model's output did not expect
    overall_loss: float
    overall_raw: float

    def effect(self, mean: float, raw_mean: float) -> float:
        """How much worse a segment is: for regression its MAE over the overall one, minus
        one; for classification its error rate minus the overall one. With ``judge:
        unexpected``, the smaller of that and the same comparison of the errors the
        model's output did not expect."""
        if self.regression:
            r = raw_mean / self.overall_raw - 1 if self.overall_raw > 0 else 0.0
            if self.unexpected and self.overall_loss > 0:
                r = min(r, mean / self.overall_loss - 1)
            return r
        gap = raw_mean - self.overall_raw
        return min(gap, mean - self.overall_loss) if self.unexpected else gap


def losses(data: Any, judge: str, regression: bool) -> Losses:
    """The per-row losses of ``data`` (an ``EvalData``) for ``judge`` (``unexpected`` or
    ``raw``): for a classifier with scores, the misclassification minus the error its
    score expected; for a regressor, the absolute error over that of the rows in the
    same decile of predictions."""
    n = data.n
    raw = np.abs(data.y - data.pred) if regression else (data.y != data.pred).astype(np.float64)
    expected = None  # the error the model's own output expects, row by row
    if not regression and data.proba is not None:
        p_pred = data.proba[np.arange(n), np.clip(data.pred, 0, None)]
        expected = 1.0 - np.where(data.pred >= 0, p_pred, 0.0)
    elif regression and judge == "unexpected":
        expected = expected_abs_error(data.pred, raw)
    unexpected = expected is not None and judge == "unexpected"
    if unexpected and expected is not None and regression:
        loss = raw / np.maximum(expected, np.finfo(float).tiny) if raw.any() else raw
    else:
        loss = raw - expected if unexpected else raw
    return Losses(
        raw, expected, loss, regression, unexpected, float(loss.mean()), float(raw.mean())
    )


@dataclass(frozen=True)
class Plan:
    """How segments are tested and judged (see :mod:`assay.evaluation.segments`)."""

    warn_effect: float
    fail_effect: float
    fdr: float
    min_effect: bool  # minimum-effect tests, spent hierarchically
    test_floor: float  # the gap a single condition's null allows
    pair_floor: float  # the gap a pair's null allows
    pair_share: float  # of the false discovery rate spent on pairs

    @property
    def floors(self) -> tuple[float, float]:
        return self.test_floor, self.pair_floor

    @property
    def material(self) -> float | None:
        """The gap each single condition is also tested against on its own, if any."""
        return self.warn_effect if self.min_effect else None


@dataclass
class Candidate:
    """A segment: its columns and conditions, size, mean losses and test results."""

    cols: tuple[int, ...]
    conds: tuple[int, ...]
    n: float
    mean: float  # mean judged loss
    raw_mean: float  # mean raw loss (error, or absolute error)
    p: float
    z: float
    parents: tuple[tuple[float, float], ...] = ()  # (mean, raw_mean) of each single parent
    p_material: float = 0.0  # unadjusted p against "worse by at most the warning gap"


def search(
    cols: list[Column],
    loss: np.ndarray,
    raw: np.ndarray,
    th: Mapping[str, Any],
    min_size: int,
    floors: tuple[float, float],
    bernoulli: bool = False,
    material: float | None = None,
) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """Every segment of one or two conditions with its size, mean losses, p-value and
    q-value (see :func:`family_q`). ``floors``: the gap allowed by the null hypothesis of
    a single condition's test and of a pair's (see :func:`welch`). ``material``: a gap
    against which each single condition is also tested on its own (unadjusted: is this
    segment's gap clearly at least that large?). ``bernoulli``: the raw loss is a 0/1
    error, and each segment is tested with its variance under the null."""
    floor, pair_floor = floors
    cands, single_st, single = _singles(cols, loss, raw, min_size, floor, bernoulli, material)
    if th.get("pairs", True):
        cands += _pairs(cols, loss, raw, th, min_size, pair_floor, bernoulli, single_st, single)
    pvals = np.array([c.p for c in cands])
    pair = np.array([len(c.cols) == 2 for c in cands], dtype=bool)
    return cands, pvals, family_q(pvals, pair, float(th["pair_fdr_share"]))


def _e_sum(bernoulli: bool, loss_sum: Any, raw_sum: Any) -> Any:
    """The error the scores expected (raw minus judged loss), for the Bernoulli bound."""
    return raw_sum - loss_sum if bernoulli else None


def _singles(
    cols: list[Column],
    loss: np.ndarray,
    raw: np.ndarray,
    min_size: int,
    floor: float,
    bernoulli: bool,
    material: float | None,
) -> tuple[list[Candidate], dict[int, np.ndarray], dict[tuple[int, int], tuple[float, float]]]:
    """The single conditions tested; each column's per-condition sums and each
    condition's (mean judged loss, mean raw loss), which the pairs are tested against."""
    N, S, Q = float(loss.size), float(loss.sum()), float((loss**2).sum())
    R = float(raw.sum())
    cands: list[Candidate] = []
    single_st: dict[int, np.ndarray] = {}
    single: dict[tuple[int, int], tuple[float, float]] = {}
    for ci, c in enumerate(cols):
        st = _stats(c.codes, c.k, loss, raw) @ c.conditions.T  # (4, conds)
        single_st[ci] = st
        for j in range(st.shape[1]):
            n = st[0, j]
            means: tuple[float, float] = (st[1, j] / n, st[3, j] / n) if n > 0 else (np.nan, np.nan)
            single[(ci, j)] = means
            if min_size <= n <= N - min_size:
                e = _e_sum(bernoulli, st[1, j], st[3, j])
                z, _ = welch(n, st[1, j], st[2, j], N, S, Q, 0.0, e)
                _, p = welch(n, st[1, j], st[2, j], N, S, Q, floor, e)
                pm = 0.0
                if material is not None:
                    # Material in both judged and plain errors (the judged gap is the
                    # smaller of the two): the larger of the two p-values.
                    pm = float(welch(n, st[1, j], st[2, j], N, S, Q, material, e)[1])
                    if bernoulli:
                        r = st[3, j]
                        p_raw = welch(n, r, r, N, R, R, material, 0.0 * r)[1]
                        pm = max(pm, float(p_raw))
                cands.append(Candidate((ci,), (j,), n, *means, float(p), float(z), (), pm))
    return cands, single_st, single


def _pairs(
    cols: list[Column],
    loss: np.ndarray,
    raw: np.ndarray,
    th: Mapping[str, Any],
    min_size: int,
    pair_floor: float,
    bernoulli: bool,
    single_st: dict[int, np.ndarray],
    single: dict[tuple[int, int], tuple[float, float]],
) -> list[Candidate]:
    """Pairs among the columns whose single conditions reach the worst means, each tested
    against the other rows and against the rest of each of its single conditions."""
    N, S, Q = float(loss.size), float(loss.sum()), float((loss**2).sum())
    best = {
        ci: max(single[(ci, j)][0] for j in range(c.conditions.shape[0]))
        for ci, c in enumerate(cols)
    }
    keep = sorted(best, key=lambda ci: (-np.nan_to_num(best[ci], nan=-np.inf), ci))
    keep = sorted(keep[: int(th["max_pair_columns"])])
    cands: list[Candidate] = []
    for a_i, a in enumerate(keep):
        for b in keep[a_i + 1 :]:
            A, B = cols[a], cols[b]
            joint = A.codes * B.k + B.codes
            st = _stats(joint, A.k * B.k, loss, raw).reshape(4, A.k, B.k)
            # Condition sums: A_cond @ table @ B_cond.T for each statistic.
            tab = np.einsum("ak,skl,bl->sab", A.conditions, st, B.conditions)
            n = tab[0]
            ok = (n >= min_size) & (n <= N - min_size)
            if not ok.any():
                continue
            e = _e_sum(bernoulli, tab[1], tab[3])
            z, _ = welch(n, tab[1], tab[2], N, S, Q, 0.0, e)
            _, p = welch(n, tab[1], tab[2], N, S, Q, pair_floor, e)
            # A pair adds to a single condition only when it is worse than the rest
            # of that condition's rows (an intersection-union test: the larger of
            # the three p-values), so a pair that is its parent plus chance is not
            # reported in the parent's place.
            for par in (single_st[a][:, :, None], single_st[b][:, None, :]):
                _, p_in = welch(n, tab[1], tab[2], par[0], par[1], par[2], 0.0, e)
                p = np.maximum(p, np.where(par[0] - n >= 2, p_in, 1.0))
            for ja, jb in zip(*np.nonzero(ok), strict=True):
                nn = float(n[ja, jb])
                cands.append(
                    Candidate(
                        (a, b),
                        (int(ja), int(jb)),
                        nn,
                        float(tab[1][ja, jb] / nn),
                        float(tab[3][ja, jb] / nn),
                        float(p[ja, jb]),
                        float(z[ja, jb]),
                        (single[(a, int(ja))], single[(b, int(jb))]),
                    )
                )
    return cands


def _stats(codes: np.ndarray, k: int, loss: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """``(4, k)``: count, sum and sum of squares of the judged loss, and sum of the raw
    loss, per code."""
    return np.stack(
        [
            np.bincount(codes, minlength=k).astype(np.float64),
            np.bincount(codes, weights=loss, minlength=k),
            np.bincount(codes, weights=loss**2, minlength=k),
            np.bincount(codes, weights=raw, minlength=k),
        ]
    )


def welch(n, s, q, N, S, Q, floor=0.0, raw_minus_loss=None):
    """Evidence that the segment's mean loss exceeds the overall one by more than
    ``floor``: the statistic ``z`` of a one-sided Welch test of the segment's mean loss
    against the rest's, and its p-value (normal approximation; every segment has at least
    ``min_size`` rows). Returns ``(z, p)``.

    With ``floor > 0`` the null hypothesis is not "no worse" but "worse than overall by at
    most the floor" (a minimum-effect test; overall = f m1 + (1 - f) m2 for a segment of
    share f, so m1 - overall = (1 - f)(m1 - m2)). Among thousands of segments the most
    extreme gaps are inflated by selection; this test reports a segment only when the data
    show, after the false discovery control, that it is worse by more than the floor (half
    the warning gap by default), not merely that it is worse.

    ``raw_minus_loss`` (classification only: the segment's sum of the error its scores
    expected, zero when judged on raw errors) bounds the segment's variance by the one under
    the null hypothesis (as a score test does): each row's error is
    a Bernoulli draw, so under the null the variance of the segment's mean is at most
    ``mu0 (1 - mu0) / n`` with ``mu0`` its mean error at the null's boundary (expected
    error plus the rest's mean judged loss plus the floor); the smaller of that bound and
    the observed variance is used. Under the null the observed variance estimates one
    below the bound, so the test keeps its level; the observed variance of a slice where
    30% of rows are wrong is inflated by the very errors the test looks for, and cost it
    most of its power on small slices."""
    from scipy.stats import norm

    nc, sc, qc = N - n, S - s, Q - q
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2 = s / n, sc / nc
        v1 = np.maximum(q / n - m1**2, 0) * n / np.maximum(n - 1, 1)
        v2 = np.maximum(qc / nc - m2**2, 0) * nc / np.maximum(nc - 1, 1)
        if raw_minus_loss is not None:
            mu0 = np.clip(raw_minus_loss / n + m2 + floor / (1 - n / N), 0.5 / n, 1.0)
            v1 = np.minimum(v1, mu0 * (1.0 - mu0))
        se = np.sqrt(v1 / n + v2 / nc)
        d = m1 - m2 - floor / (1 - n / N)
        z = np.where(se > 0, d / se, np.where(d > 0, np.inf, -np.inf))
    return z, norm.sf(z)


def expected_abs_error(pred: np.ndarray, err: np.ndarray, n_groups: int = 10) -> np.ndarray:
    """Row by row, the mean absolute error of the rows whose prediction falls in the same
    decile of predictions: the error the model makes at that level of its output.

    Absolute errors grow with the size of the predicted value (a house predicted at a
    million is off by more dollars than one predicted at a hundred thousand); a segment of
    large predictions is not weak for that alone, just as a classifier's slice near its
    decision boundary is not."""
    k = int(max(1, min(n_groups, pred.size // 50)))
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, k + 1)[1:-1]))
    g = np.searchsorted(edges, pred, side="right")
    counts = np.bincount(g, minlength=edges.size + 1)
    means = np.bincount(g, weights=err, minlength=edges.size + 1) / np.maximum(counts, 1)
    return means[g]


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values)."""
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def family_q(p: np.ndarray, pair: np.ndarray, pair_share: float) -> np.ndarray:
    """q-values of two Benjamini–Hochberg families that share the false discovery rate.

    Single conditions form one family and pairs another, so the thousands of pairs do
    not dilute the evidence for a single condition (#14: 15 wrong labels of 50 in one
    island, Fisher p = 5.6e-5, had q = 0.19 over 218 segments). The rate is spent
    ``1 - pair_share`` on the singles and ``pair_share`` on the pairs; each family's
    q-value is divided by its share, so a segment is a discovery when its q-value is at
    most the overall rate, and the rate over both families stays at most that rate.
    """
    q = np.ones(p.size)
    for members, share in ((~pair, 1.0 - pair_share), (pair, pair_share)):
        if members.any() and share > 0:
            q[members] = np.minimum(bh(p[members]) / share, 1.0)
    return q


def members(cols: list[Column], cand: Candidate) -> np.ndarray:
    """The rows (a mask over the sample) that meet every condition of ``cand``."""
    mask = np.ones(cols[0].codes.size, dtype=bool)
    for ci, j in zip(cand.cols, cand.conds, strict=True):
        c = cols[ci]
        mask &= c.conditions[j][c.codes] > 0
    return mask


def predicate(cols: list[Column], cand: Candidate) -> str:
    """``cand`` in words: its conditions joined by "and"."""
    return " and ".join(cols[ci].predicates[j] for ci, j in zip(cand.cols, cand.conds, strict=True))


def choose(
    cols: list[Column],
    ranked: list[tuple[Candidate, float]],
    loss: np.ndarray,
    raw: np.ndarray,
    effect: Callable[[float, float], float],
    warn_e: float,
    fdr: float,
    th: Mapping[str, Any],
    floors: tuple[float, float],
    bernoulli: bool = False,
) -> list[tuple[Candidate, float, np.ndarray]]:
    """The worst segments, each still worse on the rows not already reported, and a pair
    only when no significant single condition explains nearly the same rows as well."""
    covered = np.zeros(loss.size, dtype=bool)
    N, S, Q = float(loss.size), float(loss.sum()), float((loss**2).sum())
    singles = [(c, members(cols, c)) for c, _ in ranked if len(c.cols) == 1]
    out: list[tuple[Candidate, float, np.ndarray]] = []
    for cand, q in ranked:
        if len(out) >= int(th["max_segments"]):
            break
        mask = members(cols, cand)
        if len(cand.cols) == 2 and singles:
            e = effect(cand.mean, cand.raw_mean)
            # The single condition sharing the most rows with the pair (Jaccard overlap).
            best, overlap = max(
                (
                    (c, float((m & mask).sum()) / max(float((m | mask).sum()), 1.0))
                    for c, m in singles
                ),
                key=lambda co: co[1],
            )
            keep, _ = judge_pair(
                e,
                (),
                overlap,
                effect(best.mean, best.raw_mean),
                margin=warn_e / 2,
                same_rows=float(th["same_rows"]),
            )
            if not keep:
                continue
        rest = mask & ~covered
        n = float(rest.sum())
        if n < int(th["min_size"]):
            continue
        if covered.any():
            sub = loss[rest]
            raw_gap = float(raw[rest].sum() - sub.sum()) if bernoulli else None
            floor = floors[len(cand.cols) - 1]
            _, p = welch(n, sub.sum(), (sub**2).sum(), N, S, Q, floor, raw_gap)
            if float(p) > fdr or effect(float(sub.mean()), float(raw[rest].mean())) < warn_e:
                continue
        out.append((cand, q, mask))
        covered |= mask
    return out
