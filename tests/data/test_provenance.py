"""data.provenance: content fingerprints ignore row order but not content; test == train fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.data.provenance import canonical_column, fingerprint

from .helpers import clean_binary, run

CHECK = "data.provenance"


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    return pl.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, n),
            "s": rng.choice(["a", "bb", "", "ccc"], n),
            "b": rng.random(n) < 0.5,
            "d": [dt.date(2020, 1, 1) + dt.timedelta(days=int(i)) for i in rng.integers(0, 9, n)],
            "maybe": [None if i % 7 == 0 else float(i) / 3 for i in range(n)],
        }
    )


def test_shuffled_copy_has_the_same_fingerprint(frame):
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert fingerprint(shuffled) == fingerprint(frame)
    assert fingerprint(frame.select(reversed(frame.columns))) == fingerprint(frame)


def _set(column: str, row: int, value: object) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A change that puts ``value`` in one cell."""
    at_row = pl.int_range(pl.len()) == row
    return lambda f: f.with_columns(
        pl.when(at_row).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


CHANGES = {
    "float": _set("x", 123, 9.5),
    "string": _set("s", 7, "zz"),
    "to-null": _set("maybe", 1, None),
    "renamed": lambda f: f.rename({"k": "k2"}),
    "extra-row": lambda f: pl.concat([f, f.head(1)]),
    "dropped-row": lambda f: f.head(499),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_of_content_changes_the_fingerprint(frame, change):
    assert fingerprint(change(frame)) != fingerprint(frame)


def test_fingerprint_is_type_stable():
    ints = pl.DataFrame({"a": [1, 2, None], "s": ["x", "y", "z"]})
    floats = pd.DataFrame({"a": [1.0, 2.0, np.nan], "s": ["x", "y", "z"]})
    narrow = ints.with_columns(pl.col("a").cast(pl.Int16), pl.col("s").cast(pl.Categorical))
    fp = fingerprint(ints)
    assert fingerprint(pl.from_pandas(floats)) == fp
    assert fingerprint(narrow) == fp
    # A string "1" is not the number 1, and the empty string is not a missing value.
    assert fingerprint(ints.with_columns(pl.col("a").cast(pl.String))) != fp
    a = pl.DataFrame({"s": ["", "x"]})
    assert fingerprint(a) != fingerprint(pl.DataFrame({"s": [None, "x"]}))
    assert fingerprint(pl.DataFrame({"f": [-0.0, 0.5]})) == fingerprint(
        pl.DataFrame({"f": [0.0, 0.5]})
    )
    # String boundaries are part of the content.
    assert fingerprint(pl.DataFrame({"s": ["ab", "c"]})) != fingerprint(
        pl.DataFrame({"s": ["a", "bc"]})
    )


def test_canonical_kinds():
    assert canonical_column(pl.Series([0.5, -0.0]))[0] == "float"
    assert canonical_column(pl.Series([None, None], dtype=pl.String))[0] == "null"
    assert canonical_column(pl.Series([float("nan")]))[0] == "null"
    kind, values = canonical_column(pl.Series([dt.datetime(1970, 1, 1, 0, 0, 1)]))
    assert (kind, values.to_list()) == ("datetime", [1_000_000])
    assert canonical_column(pl.Series([True, False]))[0] == "bool"
    assert canonical_column(pl.Series([[1, 2], [3]]))[0] == "str"


def test_audit_records_fingerprints_shapes_schema_versions_and_seed():
    df = clean_binary(1000)
    train, test = df.iloc[:600], df.iloc[600:]
    config = {"include": [CHECK], "seed": 11}
    result = assay.audit(train=train, test=test, target="y", config=config)
    r = result.check(CHECK)
    assert r.status == "pass" and r.findings == ()
    d = r.details
    assert set(d["fingerprints"]) == {"train", "test"}
    assert d["fingerprints"]["test"] == fingerprint(pl.from_pandas(test.reset_index(drop=True)))
    assert all(fp.startswith("sha256:") and len(fp) == 71 for fp in d["fingerprints"].values())
    assert d["shapes"]["train"] == {"rows": 600, "columns": 5}
    assert d["schema"]["types"]["colour"] == "categorical"
    assert {"python", "numpy", "polars", "pandas", "sklearn", "scipy"} <= set(d["versions"])
    assert d["seed"] == 11 and r.metrics["seed"] == 11
    # The audit copies the fingerprints into report.json's inputs.
    assert result.inputs["train"]["fingerprint"] == d["fingerprints"]["train"]
    assert result.to_dict()["inputs"]["test"]["fingerprint"] == d["fingerprints"]["test"]


def test_test_set_that_is_the_training_set_fails():
    df = clean_binary(800)
    shuffled = df.sample(frac=1.0, random_state=1)
    r = run(CHECK, pl.from_pandas(shuffled), train=df)
    assert r.status == "fail"
    (f,) = r.findings
    assert f.split == "test" and "training set" in f.message
    assert set(f.columns) == set(df.columns)
    assert r.metrics["identical_train_test"] == 1


def test_current_identical_to_test_warns(tmp_path):
    df = clean_binary(900)
    train, test = df.iloc[:600], df.iloc[600:].reset_index(drop=True)
    path = tmp_path / "test.csv"
    test.to_csv(path, index=False)
    r = run(CHECK, str(path), train=train, current=test.drop(columns="y"))
    assert r.status == "warn"
    (f,) = r.findings
    assert f.split == "current" and "test data" in f.message
    assert r.metrics["identical_test_current"] == 1 and r.metrics["identical_train_test"] == 0
    assert r.details["files"]["test"]["file_sha256"]
