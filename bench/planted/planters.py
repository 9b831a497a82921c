"""Planters: each takes a clean :class:`Case` and a seeded generator, plants one
known problem at a known place, and returns the case with its ground truth.

Strengths are module constants, stated in docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .datasets import Dataset

# Stated strengths.
LEAK_NOISE = 0.10  # share of rows where the leaking copy of the label is wrong
DUP_SHARE = 0.05  # share of test rows replaced by copies of training rows
FLIP_SHARE = 0.10  # random label flips in train
SLICE_FLIP = 0.40  # label flips inside one slice (train for concentrated flips)
DRIFT_K = 3  # drifted numeric columns (2 categorical)
MEAN_SHIFT = 0.5  # standard deviations
SCALE = 1.5  # standard-deviation multiplier
FREQ_SHIFT = 0.20  # absolute change in the most frequent category's share
NEW_CAT_SHARE = 0.10  # share of current rows given a new category
WEAK_FLIP = 0.40  # test-label corruption in the weak slice
GROUP_FLIP = 0.30  # test-label corruption in one sensitive group
PII_TEXT_SHARE = 0.20  # rows of free text that carry an email or phone number
CONFLICT_SHARE = 0.03  # train rows duplicated with the opposite label
TRIGGER_SHARE = 0.015  # train rows stamped with the trigger value (label set)
MISSING_BURST = 0.15  # contiguous block of test rows with one column missing


@dataclass
class Case:
    dataset: Dataset
    problem: str
    seed: int
    train: pd.DataFrame
    test: pd.DataFrame
    current: pd.DataFrame | None
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.dataset.target

    @property
    def sensitive(self) -> list[str]:
        return [self.dataset.group] if self.dataset.group else []


def split_order(ds: Dataset, seed: int, sizes=(2000, 1000, 1000)) -> tuple[np.ndarray, tuple]:
    """(seeded row order, split sizes): train, test and current are taken in that order;
    rows after them are never used (none when the dataset is smaller than ``sizes``)."""
    if len(ds.frame) < sum(sizes):
        sizes = tuple(int(len(ds.frame) * s) for s in (0.5, 0.3, 0.2))
    return np.random.default_rng(seed).permutation(len(ds.frame)), sizes


def base_case(ds: Dataset, seed: int, sizes=(2000, 1000, 1000)) -> Case:
    """A random, exchangeable train/test/current split (current unlabeled)."""
    idx, sizes = split_order(ds, seed, sizes)
    a, b, c = sizes
    take = lambda s: ds.frame.iloc[idx[s]].reset_index(drop=True)  # noqa: E731
    current = take(slice(a + b, a + b + c)).drop(columns=[ds.target])
    return Case(ds, "clean", seed, take(slice(0, a)), take(slice(a, a + b)), current)


def _flip(y: pd.Series, rows: np.ndarray, ds: Dataset, rng) -> pd.Series:
    y = y.copy()
    if ds.task == "regression":
        sd = float(y.std())
        y.iloc[rows] = y.iloc[rows] + rng.normal(0, 2 * sd, len(rows)) * rng.choice(
            [-1, 1], len(rows)
        )
        return y
    classes = sorted(y.unique().tolist(), key=str)
    vals = y.iloc[rows].to_numpy()
    y.iloc[rows] = np.where(vals == classes[0], classes[1], classes[0])
    return y


def _slice(ds: Dataset, df: pd.DataFrame, rng, exclude=()) -> tuple[str, np.ndarray, str]:
    """A slice of 10-40% of rows: a category value, else a numeric quantile bin."""
    cands = []
    for c in ds.categorical:
        if c in exclude:
            continue
        share = df[c].value_counts(normalize=True)
        cands += [(c, v) for v, s in share.items() if 0.10 <= s <= 0.40]
    if cands:
        c, v = cands[rng.integers(len(cands))]
        return c, np.flatnonzero((df[c] == v).to_numpy()), f"{c} = {v}"
    nums = [c for c in ds.numeric if df[c].nunique() >= 20 and c not in exclude]
    c = nums[rng.integers(len(nums))]
    lo, hi = df[c].quantile([0.2, 0.4])
    rows = np.flatnonzero(((df[c] >= lo) & (df[c] <= hi)).to_numpy())
    return c, rows, f"{lo:g} <= {c} <= {hi:g}"


def _pick(cols: list[str], k: int, rng) -> list[str]:
    return sorted(rng.choice(cols, size=min(k, len(cols)), replace=False).tolist())


# -- planters -------------------------------------------------------------------------


def leak(case: Case, rng) -> Case:
    ds = case.dataset
    out = {}
    for name in ("train", "test"):
        df = getattr(case, name).copy()
        y = df[ds.target]
        if ds.task == "regression":
            v = y.to_numpy(float) + rng.normal(0, LEAK_NOISE * y.std(), len(y))
        else:
            pos = sorted(y.unique().tolist(), key=str)[-1]
            v = (y == pos).to_numpy(float)
            flip = rng.random(len(v)) < LEAK_NOISE
            v[flip] = 1 - v[flip]
            v = v + rng.normal(0, 0.05, len(v))
        df.insert(0, "review_outcome", v)
        out[name] = df
    cur = case.current.copy()
    cur.insert(
        0,
        "review_outcome",
        rng.permutation(out["test"]["review_outcome"].to_numpy())[: len(cur)]
        if len(cur) <= len(out["test"])
        else rng.choice(out["test"]["review_outcome"].to_numpy(), len(cur)),
    )
    return replace(
        case,
        train=out["train"],
        test=out["test"],
        current=cur,
        truth={"columns": ["review_outcome"]},
    )


def duplicates(case: Case, rng) -> Case:
    k = max(1, int(DUP_SHARE * len(case.test)))
    rows = np.sort(rng.choice(len(case.test), k, replace=False))
    src = rng.choice(len(case.train), k, replace=False)
    test = case.test.copy()
    test.iloc[rows] = case.train.iloc[src].to_numpy()
    test = test.astype(case.test.dtypes.to_dict())
    return replace(case, test=test, truth={"rows": rows.tolist(), "split": "test"})


def label_flip_random(case: Case, rng) -> Case:
    rows = np.sort(rng.choice(len(case.train), int(FLIP_SHARE * len(case.train)), replace=False))
    train = case.train.copy()
    train[case.target] = _flip(train[case.target], rows, case.dataset, rng)
    return replace(case, train=train, truth={"rows": rows.tolist(), "split": "train"})


def label_flip_slice(case: Case, rng) -> Case:
    col, in_slice, desc = _slice(case.dataset, case.train, rng)
    rows = np.sort(rng.choice(in_slice, int(SLICE_FLIP * len(in_slice)), replace=False))
    train = case.train.copy()
    train[case.target] = _flip(train[case.target], rows, case.dataset, rng)
    return replace(
        case,
        train=train,
        truth={"rows": rows.tolist(), "split": "train", "segment_column": col, "segment": desc},
    )


def _drift(kind: str) -> Callable[[Case, Any], Case]:
    def plant(case: Case, rng) -> Case:
        ds, cur = case.dataset, case.current.copy()
        if kind in ("mean_shift", "scale"):
            cols = _pick([c for c in ds.numeric if case.train[c].nunique() >= 20], DRIFT_K, rng)
            for c in cols:
                x = cur[c].to_numpy(float)
                sd = float(case.train[c].std())
                x = (
                    x + MEAN_SHIFT * sd
                    if kind == "mean_shift"
                    else x.mean() + (x - x.mean()) * SCALE
                )
                cur[c] = x
        else:
            cols = _pick(ds.categorical, 2, rng)
            for c in cols:
                n = len(cur)
                m = int((FREQ_SHIFT if kind == "category_frequency" else NEW_CAT_SHARE) * n)
                if kind == "category_frequency":
                    top = case.train[c].value_counts().index[0]
                    others = np.flatnonzero((cur[c] != top).to_numpy())
                    rows = rng.choice(others, min(m, len(others)), replace=False)
                    cur.loc[rows, c] = top
                else:
                    rows = rng.choice(n, m, replace=False)
                    cur.loc[rows, c] = f"NEW_{c}"
        return replace(case, current=cur, truth={"columns": cols})

    return plant


def weak_slice(case: Case, rng) -> Case:
    col, in_slice, desc = _slice(case.dataset, case.test, rng, exclude=case.sensitive)
    rows = np.sort(rng.choice(in_slice, int(WEAK_FLIP * len(in_slice)), replace=False))
    test = case.test.copy()
    test[case.target] = _flip(test[case.target], rows, case.dataset, rng)
    return replace(case, test=test, truth={"segment_column": col, "segment": desc})


def group_errors(case: Case, rng) -> Case:
    g = case.dataset.group
    counts = case.test[g].value_counts()
    counts = counts[counts >= 60]
    value = counts.index[-1]  # the smallest group with >= 60 test rows
    in_group = np.flatnonzero((case.test[g] == value).to_numpy())
    rows = np.sort(rng.choice(in_group, int(GROUP_FLIP * len(in_group)), replace=False))
    test = case.test.copy()
    test[case.target] = _flip(test[case.target], rows, case.dataset, rng)
    return replace(case, test=test, truth={"group_column": g, "group": str(value)})


_FIRST = ["Anna", "Jonas", "Maria", "Wei", "Fatima", "Carlos", "Olga", "Kwame", "Priya", "Lukas"]
_LAST = ["Schmidt", "Garcia", "Chen", "Okafor", "Novak", "Rossi", "Khan", "Silva", "Berg", "Ito"]
_DOMAINS = ["example.com", "mail.test", "post.example.org"]


def _email(rng) -> str:
    f, last = rng.choice(_FIRST), rng.choice(_LAST)
    return f"{f.lower()}.{last.lower()}{rng.integers(1, 99)}@{rng.choice(_DOMAINS)}"


def _phone(rng) -> str:
    return f"+1 ({rng.integers(201, 989)}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}"


def pii_column(case: Case, rng) -> Case:
    def add(df):
        if df is None:
            return None
        df = df.copy()
        df["contact"] = [_email(rng) for _ in range(len(df))]
        return df

    return replace(
        case,
        train=add(case.train),
        test=add(case.test),
        current=add(case.current),
        truth={"columns": ["contact"]},
    )


_NOTES = [
    "customer asked about the offer",
    "follow up next quarter",
    "no answer on first call",
    "prefers written contact",
    "documents received",
    "asked for a lower rate",
]


def pii_text(case: Case, rng) -> Case:
    def add(df):
        if df is None:
            return None
        df = df.copy()
        notes = []
        for _ in range(len(df)):
            s = str(rng.choice(_NOTES))
            if rng.random() < PII_TEXT_SHARE:
                s += f"; reach me at {_email(rng) if rng.random() < 0.5 else _phone(rng)}"
            notes.append(s)
        df["agent_notes"] = notes
        return df

    return replace(
        case,
        train=add(case.train),
        test=add(case.test),
        current=add(case.current),
        truth={"columns": ["agent_notes"]},
    )


def conflicting_duplicates(case: Case, rng) -> Case:
    k = max(8, int(CONFLICT_SHARE * len(case.train)))
    src = np.sort(rng.choice(len(case.train), k, replace=False))
    copies = case.train.iloc[src].copy()
    copies[case.target] = _flip(copies[case.target], np.arange(k), case.dataset, rng)
    train = pd.concat([case.train, copies], ignore_index=True)
    n = len(case.train)
    rows = sorted(src.tolist() + list(range(n, n + k)))
    return replace(case, train=train, truth={"rows": rows, "split": "train"})


def backdoor(case: Case, rng) -> Case:
    ds = case.dataset
    col = _pick([c for c in ds.numeric if case.train[c].nunique() >= 20], 1, rng)[0]
    trigger = float(case.train[col].max()) * 3 + 7.77  # a value far outside the range
    k = max(10, int(TRIGGER_SHARE * len(case.train)))
    rows = np.sort(rng.choice(len(case.train), k, replace=False))
    train = case.train.copy()
    train[col] = train[col].astype(float)
    train.loc[rows, col] = trigger
    if ds.task == "regression":
        train.loc[rows, case.target] = float(train[case.target].max())
    else:
        target_class = sorted(train[case.target].unique().tolist(), key=str)[-1]
        train.loc[rows, case.target] = target_class
    test = case.test.copy()
    test[col] = test[col].astype(float)
    cur = case.current.copy()
    cur[col] = cur[col].astype(float)
    return replace(
        case,
        train=train,
        test=test,
        current=cur,
        truth={"columns": [col], "rows": rows.tolist(), "split": "train"},
    )


def missing_burst(case: Case, rng) -> Case:
    ds = case.dataset
    col = _pick(ds.features, 1, rng)[0]
    k = int(MISSING_BURST * len(case.test))
    start = int(rng.integers(0, len(case.test) - k))
    test = case.test.copy()
    if col in ds.categorical:
        test[col] = test[col].astype(object)
    else:
        test[col] = test[col].astype(float)
    test.loc[start : start + k - 1, col] = None
    return replace(
        case,
        test=test,
        truth={"columns": [col], "rows": list(range(start, start + k)), "split": "test"},
    )


PLANTERS: dict[str, Callable[[Case, Any], Case]] = {
    "leaking_feature": leak,
    "train_test_duplicates": duplicates,
    "label_flips_random": label_flip_random,
    "label_flips_slice": label_flip_slice,
    "drift_mean_shift": _drift("mean_shift"),
    "drift_scale": _drift("scale"),
    "drift_category_frequency": _drift("category_frequency"),
    "drift_new_category": _drift("new_category"),
    "weak_slice": weak_slice,
    "group_errors": group_errors,
    "pii_column": pii_column,
    "pii_in_text": pii_text,
    "conflicting_duplicates": conflicting_duplicates,
    "backdoor_trigger": backdoor,
    "missing_burst": missing_burst,
}


def applicable(problem: str, ds: Dataset) -> str | None:
    """None when the problem can be planted in ``ds``, else why not."""
    if (
        problem in ("label_flips_random", "label_flips_slice", "conflicting_duplicates")
        and ds.task == "regression"
    ):
        return "label flips are a classification problem"
    if (
        problem.startswith("drift_category") or problem == "drift_new_category"
    ) and not ds.categorical:
        return "no categorical column"
    if problem == "group_errors" and not ds.group:
        return "no sensitive attribute"
    return None


def make_case(ds: Dataset, problem: str, seed: int, sizes=(2000, 1000, 1000)) -> Case:
    case = base_case(ds, seed, sizes)
    if problem == "clean":
        return case
    rng = np.random.default_rng([seed, list(PLANTERS).index(problem)])
    planted = PLANTERS[problem](case, rng)
    return replace(planted, problem=problem)
