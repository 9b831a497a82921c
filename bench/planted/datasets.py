"""Loaders for the real datasets the planted-problem benchmark uses.

Each loader returns a :class:`Dataset`: a pandas frame with known real problems
removed (rows with missing cells, exact duplicate rows, and columns that are
known to leak the target), so that a clean control is clean of everything but
ordinary sampling noise. What each loader removes is stated in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@dataclass
class Dataset:
    name: str
    frame: pd.DataFrame
    target: str
    task: str  # binary | regression
    group: str | None = None  # sensitive attribute used for group-concentrated errors
    categorical: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.target]

    @property
    def numeric(self) -> list[str]:
        return [c for c in self.features if c not in self.categorical]


def _finish(name, df, target, task, group, categorical) -> Dataset:
    df = df.dropna().drop_duplicates().reset_index(drop=True)
    for c in categorical:
        df[c] = df[c].astype(str)
    return Dataset(name, df, target, task, group, categorical)


def adult(root: Path = ROOT) -> Dataset:
    """UCI Adult: drop rows with '?' (NaN), exact duplicates and the ``split`` column."""
    df = pd.read_csv(root / "adult" / "adult.csv.gz").drop(columns=["split"])
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and c != "income"]
    return _finish("adult", df, "income", "binary", "sex", cats)


def load_adult_frame(df: pd.DataFrame) -> Dataset:
    """The bundled demo copy of Adult (used by the small test-suite version)."""
    df = df.drop(columns=[c for c in ("split",) if c in df.columns])
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and c != "income"]
    return _finish("adult-demo", df, "income", "binary", "sex", cats)


def bank(root: Path = ROOT) -> Dataset:
    """Bank marketing (bank-full): drop ``duration`` (documented target leak)."""
    df = pd.read_csv(root / "bank_marketing" / "bank-full.csv.gz", sep=";")
    df = df.drop(columns=["duration"])
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and c != "y"]
    return _finish("bank", df, "y", "binary", "marital", cats)


def credit(root: Path = ROOT) -> Dataset:
    """Taiwan credit default: drop ``ID``; SEX/EDUCATION/MARRIAGE as categories."""
    df = pd.read_csv(root / "credit_default_taiwan" / "credit_default_taiwan.csv.gz")
    df = df.drop(columns=["ID"])
    return _finish(
        "credit",
        df,
        "default_payment_next_month",
        "binary",
        "SEX",
        ["SEX", "EDUCATION", "MARRIAGE"],
    )


def german(root: Path = ROOT) -> Dataset:
    """German credit: drop ``class_label`` (the target as a string: a leak)."""
    df = pd.read_csv(root / "german_credit" / "german_credit.csv").drop(columns=["class_label"])
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    return _finish("german", df, "class", "binary", "sex", cats)


def california(root: Path = ROOT) -> Dataset:
    """California housing (regression): drop rows with missing ``total_bedrooms``."""
    df = pd.read_csv(root / "california_housing" / "california_housing.csv.gz")
    return _finish(
        "california",
        df,
        "median_house_value",
        "regression",
        "ocean_proximity",
        ["ocean_proximity"],
    )


def elec2(root: Path = ROOT) -> Dataset:
    """Elec2: drop ``timestamp`` and ``date`` (time stamps); rows are shuffled by the
    planter, so train, test and current are exchangeable (no natural drift)."""
    df = pd.read_csv(root / "elec2" / "elec2.csv.gz").drop(columns=["timestamp", "date"])
    df["day"] = df["day"].astype(str)
    return _finish("elec2", df, "class", "binary", None, ["day"])


LOADERS = {
    "adult": adult,
    "bank": bank,
    "credit": credit,
    "german": german,
    "california": california,
    "elec2": elec2,
}
