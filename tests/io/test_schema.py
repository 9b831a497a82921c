from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from assay.errors import ConfigError, SchemaError, TargetError
from assay.io.schema import infer_schema


@pytest.fixture()
def frame() -> pl.DataFrame:
    n = 200
    rng = np.random.default_rng(0)
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "row": list(range(n)),
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 10_000, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n).tolist(),
            "member": rng.choice([True, False], n).tolist(),
            "flag": rng.integers(0, 2, n),
            "signup": [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            "review": [
                f"this product was great number {i} and I would buy it again" for i in range(n)
            ],
            "label": rng.choice(["a", "b", "c"], n).tolist(),
            "price": rng.normal(10, 2, n),
        }
    )


def test_inferred_types(frame):
    s = infer_schema(frame, target="label")
    assert s.types == {
        "customer_id": "identifier",
        "row": "identifier",
        "age": "numeric",
        "income": "numeric",
        "city": "categorical",
        "member": "boolean",
        "flag": "boolean",
        "signup": "datetime",
        "review": "text",
        "label": "categorical",
        "price": "numeric",
    }
    assert s.task == "multiclass" and s.classes == ("a", "b", "c")
    assert "label" not in s.features


def test_tasks(frame):
    assert infer_schema(frame, target="member").task == "binary"
    assert infer_schema(frame, target="price").task == "regression"
    assert infer_schema(frame, target="age", task="regression").task == "regression"


def test_overrides_and_ignore(frame):
    s = infer_schema(frame, target="label", overrides={"age": "categorical"}, ignore=["row"])
    assert s.types["age"] == "categorical" and "row" not in s.features
    with pytest.raises(SchemaError, match=r"'agee'.*Did you mean 'age'"):
        infer_schema(frame, target="label", ignore=["agee"])
    with pytest.raises(ConfigError, match="must be one of"):
        infer_schema(frame, target="label", overrides={"age": "number"})


def test_target_errors(frame):
    with pytest.raises(TargetError, match=r"'lable' is not in test.*'label'"):
        infer_schema(frame, target="lable")
    with pytest.raises(TargetError, match="missing value"):
        infer_schema(frame.with_columns(pl.lit(None).alias("price")), target="price")
    nan_target = frame.with_columns(
        pl.when(pl.col("age") > 80).then(float("nan")).otherwise(pl.col("price")).alias("price")
    )
    with pytest.raises(TargetError, match="missing value"):
        infer_schema(nan_target, target="price")
    with pytest.raises(TargetError, match="one class only"):
        infer_schema(frame.with_columns(pl.lit("x").alias("label")), target="label")


def test_numeric_between_zero_and_one_is_not_boolean():
    df = pl.DataFrame({"p": [0.0, 0.5, 1.0] * 10, "b": [0.0, 1.0, None] * 10, "y": [0, 1, 1] * 10})
    s = infer_schema(df, target="y")
    assert s.types["p"] == "numeric" and s.types["b"] == "boolean"
