"""Real datasets for the verdict-calibration harness: clean tables, honest targets.

The six planted-benchmark datasets (``bench/planted/datasets.py``), four more from
``../shared/datasets`` that no Assay rule was tuned on, and three that ship with
scikit-learn (no download). Each loader removes what would make an audit of an
honest model dishonest (identifiers, documented leaks, the target's components),
says so in its docstring, and nothing else: ordinary messiness stays.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bench.planted.datasets import LOADERS as PLANTED
from bench.planted.datasets import ROOT, Dataset, _finish


def titanic() -> Dataset:
    """Titanic (Kaggle train part): drop ``PassengerId``, ``Name``, ``Ticket`` and
    ``Cabin`` (identifiers, and a column missing in 77% of rows); rows with a
    missing cell are dropped."""
    df = pd.read_csv(ROOT / "titanic" / "train.csv")
    df = df.drop(columns=["PassengerId", "Name", "Ticket", "Cabin"])
    return _finish("titanic", df, "Survived", "binary", "Sex", ["Sex", "Embarked", "Pclass"])


def bike() -> Dataset:
    """Bike sharing, hourly: target ``cnt``; drop ``casual`` and ``registered`` (they
    sum to the target), ``instant`` (a row number) and ``dteday`` (a date string)."""
    df = pd.read_csv(ROOT / "bike_sharing" / "hour.csv.gz")
    df = df.drop(columns=["instant", "dteday", "casual", "registered"])
    return _finish("bike", df, "cnt", "regression", None, ["season", "weathersit"])


def beijing() -> Dataset:
    """Beijing PM2.5: target ``pm2.5``; drop ``No`` (a row number) and ``datetime``
    (its parts stay); rows without a reading are dropped."""
    df = pd.read_csv(ROOT / "beijing_pm25" / "beijing_pm25.csv.gz")
    df = df.drop(columns=["No", "datetime"])
    return _finish("beijing", df, "pm2.5", "regression", None, ["cbwd"])


def weather() -> Dataset:
    """NOAA weather, Nebraska: rain tomorrow (``target``) from eight daily readings."""
    df = pd.read_csv(ROOT / "weather_nebraska" / "weather.csv.gz")
    return _finish("weather", df, "target", "binary", None, [])


def _sklearn(name: str, loader: Callable, task: str) -> Callable[[], Dataset]:
    def load() -> Dataset:
        bunch = loader(as_frame=True)
        df = bunch.frame.rename(columns={"target": "y"})
        if task != "regression":
            df["y"] = df["y"].astype(int)
        return _finish(name, df, "y", task, None, [])

    load.__doc__ = f"scikit-learn's bundled {name} data (no download)."
    return load


def _bundled() -> dict[str, Callable[[], Dataset]]:
    from sklearn import datasets as skd

    return {
        "breast_cancer": _sklearn("breast_cancer", skd.load_breast_cancer, "binary"),
        "wine": _sklearn("wine", skd.load_wine, "multiclass"),
        "diabetes": _sklearn("diabetes", skd.load_diabetes, "regression"),
    }


LOADERS: dict[str, Callable[[], Dataset]] = {
    **PLANTED,
    "titanic": titanic,
    "bike": bike,
    "beijing": beijing,
    "weather": weather,
    **_bundled(),
}
"""Every dataset the harness knows, by name."""
