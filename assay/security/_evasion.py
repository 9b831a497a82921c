"""The evasion-attack engine behind ``security.adversarial`` (private).

Rows are sampled by content and their numeric features standardized
(:func:`build_space`); :class:`Model` asks the audited model for decisions on
perturbed copies of those rows, many at a time; :func:`run_attacks` finds, for
each row and each set of attackable features, a nearby point with another
decision: a batched grid search for a start, ART's HopSkipJump from there
(rows side by side in :class:`~assay.security._attack.Lockstep`), and a batched
bisection back to the decision boundary.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from assay.core.context import AuditContext
from assay.core.registry import SkipCheck
from assay.evaluation._metrics import encode_labels
from assay.evaluation.robustness import robust_scale
from assay.security._attack import Lockstep, content_order, import_art, seeded_global_numpy

INIT_RADII = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
"""Radii (std units) of the first, vectorized search for a point with another decision."""
INIT_DIRECTIONS = 24
_STREAM = 41
MAX_ASKS_PER_ROW = 2000
"""The most questions one row's HopSkipJump may put to the model. A normal row asks a few
hundred (``max_iter`` rounds of a gradient estimate, a step search and a bisection); ART's
step search halves its step until the point is adversarial, which on a model whose
boundary does not survive float32 rounding never happens (a Taiwan-credit gradient-boosted
model hung an audit for 20 minutes). A row that reaches the cap keeps its starting point,
whose bisection back to the boundary gives an upper bound as before."""


class _QueryCap(Exception):
    """Raised in a row's attack when it has asked :data:`MAX_ASKS_PER_ROW` questions."""


@dataclass
class Space:
    """The attacked rows in standardized units, and how to turn them back into frames."""

    frame: pl.DataFrame  # the sampled rows (all features)
    rows: np.ndarray  # their positions in the test data
    numeric: tuple[str, ...]  # every attackable numeric feature
    raw: np.ndarray  # (n, len(numeric)) their values as given
    mean: np.ndarray
    std: np.ndarray
    z: np.ndarray  # the same standardized, float64
    z32: np.ndarray  # the same as ART sees them (float32)
    clip: tuple[float, float]


def _numeric_features(ctx: AuditContext, df: pl.DataFrame) -> list[str]:
    out = []
    for c in df.columns:
        if ctx.schema.types.get(c) != "numeric" or not df.schema[c].is_numeric():
            continue
        out.append(c)
    return out


def build_space(ctx: AuditContext, n_rows: int) -> tuple[Space, int]:
    """Sample ``n_rows`` complete test rows (by content) and standardize numeric features.

    A feature's unit is its robust spread (:func:`~assay.evaluation.robustness.robust_scale`,
    the standard deviation inside Tukey's far fences), so one sentinel such as ``666`` in
    a 0/1 column cannot make "a tenth of a standard deviation" a jump from 0 to 1.
    """
    X = ctx.features("test")
    numeric = _numeric_features(ctx, X)
    if not numeric:
        raise SkipCheck(
            "the model has no numeric features; this attack changes numeric features only "
            "(categorical values are kept in their domain)"
        )
    vals = X.select([pl.col(c).cast(pl.Float64) for c in numeric]).to_numpy()
    with np.errstate(invalid="ignore"):
        mean = np.nanmedian(vals, axis=0)
    std = np.array([robust_scale(vals[:, j]) for j in range(vals.shape[1])])
    # Rounded so that the sums' order (row order) cannot change the scale in its last bits.
    mean, std = _round_sig(mean), _round_sig(std)
    usable = np.isfinite(std) & (std > 0)
    numeric = [c for c, ok in zip(numeric, usable, strict=True) if ok]
    if not numeric:
        raise SkipCheck("every numeric feature is constant on the test data; nothing to perturb")
    mean, std, vals = mean[usable], std[usable], vals[:, usable]
    complete = np.isfinite(vals).all(axis=1)
    order = content_order(X, ctx.settings.seed)
    order = order[complete[order]]
    if order.size < 10:
        raise SkipCheck(
            f"only {order.size} test rows have every numeric feature filled in; the attack "
            "needs at least 10"
        )
    rows = order[:n_rows]
    z = (vals[rows] - mean) / std
    all_z = (vals[complete] - mean) / std
    clip = (float(all_z.min()) - 1.0, float(all_z.max()) + 1.0)
    space = Space(
        frame=X[rows.tolist()],
        rows=rows,
        numeric=tuple(numeric),
        raw=vals[rows],
        mean=mean,
        std=std,
        z=z,
        z32=z.astype(np.float32),
        clip=clip,
    )
    return space, int(complete.sum())


def _round_sig(a: np.ndarray, digits: int = 10) -> np.ndarray:
    out = np.array(a, dtype=np.float64)
    ok = np.isfinite(out) & (out != 0)
    mag = np.floor(np.log10(np.abs(out[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(out[ok] * scale) / scale
    return out


class Model:
    """Decisions of the audited model on perturbed copies of the sampled rows."""

    def __init__(self, ctx: AuditContext, space: Space) -> None:
        self.ctx = ctx
        self.space = space
        self.classes = ctx.classes
        self.calls = 0
        self.queries = 0

    def decide(self, base: np.ndarray, cols: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """Class index of each query: row ``base[i]`` with features ``cols`` set to ``Z[i]``.

        ``Z`` is in standardized units, one column per entry of ``cols`` (positions in
        ``space.numeric``). Values equal to the row's own (as ART sees it) are kept exactly.
        """
        sp = self.space
        frame = sp.frame[base.tolist()]
        z32 = sp.z32[base][:, cols]
        new = Z.astype(np.float64) * sp.std[cols] + sp.mean[cols]
        new = np.where(z32 == Z, sp.raw[base][:, cols], new)
        frame = frame.with_columns(
            [
                pl.Series(sp.numeric[c], new[:, i]).cast(frame.schema[sp.numeric[c]], strict=False)
                if frame.schema[sp.numeric[c]].is_float()
                else pl.Series(sp.numeric[c], new[:, i])
                for i, c in enumerate(cols.tolist())
            ]
        )
        # Decisions only: no class list, so no predict_proba call.
        assert self.ctx.model is not None  # the evasion check needs a model object
        pred = self.ctx.model.predict(frame, None)
        self.calls += 1
        self.queries += len(base)
        return encode_labels(pred.labels, self.classes)


def _initial_points(
    model: Model, variant_cols: list[np.ndarray], labels: np.ndarray, seed: int
) -> tuple[list[np.ndarray | None], list[float]]:
    """Starting points of HopSkipJump, one per (variant, row), in that order.

    For every row, points on a grid of random corners of the L∞ ball and growing
    radii (:data:`INIT_RADII`) are asked at once (one model call per variant);
    the nearest with another decision is the start, ``None`` when none flips.
    """
    sp = model.space
    n = len(sp.rows)
    rng = np.random.default_rng([seed, _STREAM])
    lo, hi = sp.clip
    starts: list[np.ndarray | None] = []
    dists: list[float] = []
    for cols in variant_cols:
        dirs = rng.choice([-1.0, 1.0], size=(INIT_DIRECTIONS, len(cols)))
        steps = np.concatenate([r * dirs for r in INIT_RADII])  # radius-major order
        m = len(steps)
        pts = np.clip(sp.z[:, cols][:, None, :] + steps[None, :, :], lo, hi).astype(np.float32)
        got = model.decide(np.repeat(np.arange(n), m), cols, pts.reshape(n * m, -1))
        got = got.reshape(n, m)
        for i in range(n):
            flips = np.flatnonzero(got[i] != labels[i])
            if flips.size:
                p = pts[i, flips[0]]
                starts.append(p)
                dists.append(float(np.max(np.abs(p - sp.z32[i, cols]))))
            else:
                starts.append(None)
                dists.append(float("inf"))
    return starts, dists


def run_attacks(
    ctx: AuditContext, model: Model, variant_cols: list[np.ndarray], th: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None], dict[str, int]]:
    """Minimal L∞ perturbation (std units) per (variant, row), and the adversarial points."""
    (hsj_mod, bb_mod) = import_art(
        "art.attacks.evasion.hop_skip_jump", "art.estimators.classification.blackbox"
    )
    sp = model.space
    n = len(sp.rows)
    n_classes = len(model.classes)
    labels = model.decide(np.arange(n), np.arange(len(sp.numeric)), sp.z32)
    starts, _ = _initial_points(model, variant_cols, labels, ctx.settings.seed)
    jobs_meta = [(v, i) for v in range(len(variant_cols)) for i in range(n)]

    answer = _answerer(model, variant_cols, jobs_meta, n_classes)
    lock = Lockstep(answer)
    max_eval = int(th["max_eval"])
    init_eval = min(int(th["init_eval"]), max_eval)

    capped: list[int] = []

    def job(k: int) -> np.ndarray | None:
        v, i = jobs_meta[k]
        start = starts[k]
        if start is None:
            return None
        cols = variant_cols[v]
        asked = [0]

        def ask(Z: np.ndarray) -> np.ndarray:
            asked[0] += 1
            if asked[0] > MAX_ASKS_PER_ROW:
                raise _QueryCap
            return lock.ask(k, Z)

        clf = bb_mod.BlackBoxClassifier(
            ask,
            input_shape=(len(cols),),
            nb_classes=n_classes,
            clip_values=sp.clip,
        )
        attack = hsj_mod.HopSkipJump(
            clf,
            batch_size=max_eval,
            targeted=False,
            norm=np.inf,
            max_iter=int(th["max_iter"]),
            max_eval=max_eval,
            init_eval=init_eval,
            init_size=1,
            verbose=False,
        )
        x = sp.z32[i, cols][None, :].copy()
        y = np.zeros((1, n_classes), dtype=np.float32)
        y[0, labels[i]] = 1.0
        try:
            return attack.generate(x, y=y, x_adv_init=start[None, :].copy())[0]
        except _QueryCap:
            capped.append(k)  # one thread at a time (lockstep), so no race
            return None

    with seeded_global_numpy(ctx.settings.seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        advs = lock.run([partial(job, k) for k in range(len(jobs_meta))])
    # ART's last step moves away from the boundary: confirm its result flips, pull it and
    # the start back onto the boundary by one batched bisection, and keep the nearer.
    dist, best = _refine(model, variant_cols, jobs_meta, starts, advs, labels)
    stats = {
        "model_calls": model.calls,
        "queries": model.queries,
        "rounds": lock.rounds,
        "rows_capped": len(capped),
    }
    return dist.reshape(len(variant_cols), n), labels, best, stats


def _answerer(
    model: Model, variant_cols: list[np.ndarray], jobs_meta: list[tuple[int, int]], n_classes: int
) -> Callable[[list[tuple[int, np.ndarray]]], list[np.ndarray]]:
    """The lockstep's batch answer: every attack's pending queries decided by the model
    in one call per variant, as one-hot class vectors in the order asked."""

    def answer(batch: list[tuple[int, np.ndarray]]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        by_variant: dict[int, list[int]] = {}
        for pos, (k, _) in enumerate(batch):
            by_variant.setdefault(jobs_meta[k][0], []).append(pos)
        results: dict[int, np.ndarray] = {}
        for v, positions in by_variant.items():
            base = np.concatenate(
                [np.full(len(batch[p][1]), jobs_meta[batch[p][0]][1]) for p in positions]
            )
            Z = np.concatenate(
                [np.asarray(batch[p][1]).reshape(len(batch[p][1]), -1) for p in positions]
            )
            codes = model.decide(base, variant_cols[v], Z)
            onehot = np.zeros((len(codes), n_classes), dtype=np.float32)
            ok = codes >= 0
            onehot[np.flatnonzero(ok), codes[ok]] = 1.0
            offset = 0
            for p in positions:
                m = len(batch[p][1])
                results[p] = onehot[offset : offset + m]
                offset += m
        out = [results[p] for p in range(len(batch))]
        return out

    return answer


def _refine(
    model: Model,
    variant_cols: list[np.ndarray],
    jobs_meta: list[tuple[int, int]],
    starts: list[np.ndarray | None],
    advs: list[np.ndarray | None],
    labels: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """(smallest L∞ distance, its point) per job: ART's results that flip the decision
    and the starting points, each bisected back onto the boundary; the nearer kept."""
    dist = np.full(len(jobs_meta), np.inf)
    best: list[np.ndarray | None] = [None] * len(jobs_meta)
    for v, cols in enumerate(variant_cols):
        mine = [k for k, (vv, _) in enumerate(jobs_meta) if vv == v]
        found = {k: a for k in mine if (a := advs[k]) is not None}
        arts: list[int] = []
        if found:
            got = model.decide(
                np.array([jobs_meta[k][1] for k in found]), cols, np.stack(list(found.values()))
            )
            arts = [k for k, g in zip(found, got, strict=True) if g != labels[jobs_meta[k][1]]]
        cands = [(k, s) for k in mine if (s := starts[k]) is not None] + [
            (k, found[k]) for k in arts
        ]
        if not cands:
            continue
        rows = np.array([jobs_meta[k][1] for k, _ in cands])
        pts, d = _bisect_to_boundary(
            model, cols, rows, np.stack([p for _, p in cands]), labels[rows]
        )
        for (k, _), p, dk in zip(cands, pts, d, strict=True):
            if dk < dist[k]:
                best[k], dist[k] = p, dk
    return dist, best


def _bisect_to_boundary(
    model: Model,
    cols: np.ndarray,
    rows: np.ndarray,
    points: np.ndarray,
    labels: np.ndarray,
    steps: int = 12,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Shrink each adversarial point towards its row along the L∞ path, keeping the flip.

    The point at ``alpha`` is the original row with every change capped at ``alpha``
    times the largest change (ART's L∞ interpolation); all rows are bisected at once.
    """
    x = model.space.z32[rows][:, cols]
    reach = np.max(np.abs(points - x), axis=1, keepdims=True)
    lo = np.zeros((len(rows), 1), dtype=np.float32)
    hi = np.ones((len(rows), 1), dtype=np.float32)

    def at(alpha: np.ndarray) -> np.ndarray:
        r = alpha * reach
        return np.clip(points, x - r, x + r).astype(np.float32)

    for _ in range(steps):
        mid = ((lo + hi) / 2).astype(np.float32)
        flips = model.decide(rows, cols, at(mid)) != labels
        hi = np.where(flips[:, None], mid, hi)
        lo = np.where(flips[:, None], lo, mid)
    final = at(hi)
    dist = np.max(np.abs(final - x), axis=1).astype(np.float64)
    return list(final), dist
