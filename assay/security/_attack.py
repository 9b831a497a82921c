"""Shared machinery of the model-attack checks (private).

- :func:`content_order` / :func:`split_order`: seeded samples that do not depend
  on row order (or on how the labels are spelled);
- :func:`import_art`: ART imported quietly, or a skip naming the extra;
- :func:`seeded_global_numpy`: ART draws from NumPy's global random state;
- :class:`Lockstep`: run ART's one-row-at-a-time attacks side by side in threads
  that take turns in a fixed order, so each round's model queries go out as one
  batch and the run is reproducible.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.registry import SkipCheck, extra_skip_reason
from assay.evaluation._metrics import encode_labels

if TYPE_CHECKING:
    from assay.core.context import AuditContext


def content_order(df: pl.DataFrame, seed: int) -> np.ndarray:
    """Row positions ordered by a hash of each row's content.

    Taking the first rows of this order is a seeded sample that does not depend
    on the order the rows came in (identical rows tie; any of them will do).
    """
    if df.height == 0:
        return np.zeros(0, dtype=np.int64)
    h = df.hash_rows(seed=seed).to_numpy()
    return np.lexsort((np.arange(df.height), h)).astype(np.int64)


def split_order(ctx: AuditContext, split: str) -> np.ndarray:
    """:func:`content_order` of a split's features and target, the target as class
    positions (so ``"yes"``/``"no"`` and ``1``/``0`` labels give the same order)."""
    df = ctx.features(split)
    y = ctx.labels(split)
    if y is not None:
        if ctx.task in ("binary", "multiclass"):
            y = encode_labels(y, ctx.classes)
        df = df.with_columns(pl.Series("__assay_target__", y))
    return content_order(df, ctx.settings.seed)


@contextlib.contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seed NumPy's global random state (ART draws from it) and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)


def import_art(*modules: str) -> list[Any]:
    """Import ART modules quietly; :class:`SkipCheck` naming the extra when ART is missing."""
    import importlib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "PyTorch not found" and similar notices
            return [importlib.import_module(m) for m in modules]
    except ImportError:
        raise SkipCheck(extra_skip_reason("security")) from None


class _Aborted(Exception):
    """Another row's attack failed; this one stops."""


class Lockstep:
    """Run one attack per row in threads that take turns in a fixed order.

    A thread runs until it asks the model something (:meth:`ask`) or finishes;
    when every live thread has had its turn, the questions asked go to the
    model as one batch (``answer``) and the next round starts. Only the thread
    whose turn it is runs, so the runs are reproducible. Each thread sleeps on
    its own condition, so passing the turn wakes exactly one thread.
    """

    def __init__(self, answer: Callable[[list[tuple[int, np.ndarray]]], list[np.ndarray]]) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self._wake: list[threading.Condition] = []
        self._live: list[int] = []
        self._turn: int | None = None
        self._asked: dict[int, np.ndarray] = {}
        self._answers: dict[int, np.ndarray] = {}
        self._error: BaseException | None = None
        self.rounds = 0

    def _wait_turn(self, k: int) -> None:
        self._wake[k].wait_for(lambda: self._turn == k or self._error is not None)
        if self._error is not None:
            raise _Aborted

    def _give_turn(self, k: int | None) -> None:
        self._turn = k
        if k is not None:
            self._wake[k].notify()

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
        for c in self._wake:
            c.notify()

    def _pass_on(self, k: int) -> None:
        """Give the turn to the next live thread; answer the round after the last one."""
        later = [j for j in self._live if j > k]
        if later:
            self._give_turn(later[0])
            return
        if self._asked:
            keys = sorted(self._asked)
            try:
                outs = self._answer([(j, self._asked[j]) for j in keys])
            except BaseException as exc:
                self._fail(exc)
                return
            self.rounds += 1
            self._answers.update(zip(keys, outs, strict=True))
            self._asked.clear()
        self._give_turn(self._live[0] if self._live else None)

    def ask(self, k: int, z: np.ndarray) -> np.ndarray:
        """Called from thread ``k``: queue ``z`` for the model and wait for the answer."""
        with self._lock:
            self._asked[k] = z
            self._pass_on(k)
            self._wait_turn(k)
            return self._answers.pop(k)

    def run(self, jobs: Sequence[Callable[[], Any]]) -> list[Any]:
        """Run ``jobs[k]()`` for every ``k`` in lockstep; return their results in order."""
        results: list[Any] = [None] * len(jobs)
        if not jobs:
            return results
        self._wake = [threading.Condition(self._lock) for _ in jobs]
        self._live = list(range(len(jobs)))
        self._turn = 0

        def work(k: int) -> None:
            try:
                with self._lock:
                    self._wait_turn(k)
                results[k] = jobs[k]()
            except _Aborted:
                pass
            except BaseException as exc:
                with self._lock:
                    self._fail(exc)
            finally:
                with self._lock:
                    self._live.remove(k)
                    if self._error is None:
                        self._pass_on(k)

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self._error is not None:
            raise self._error
        return results
