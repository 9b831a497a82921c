"""Prepare the demo: read the bundled UCI Adult data and train a model.

Example
-------
>>> train, test, model = prepare()  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

TARGET = "income"
DEMO_CONFIG: dict[str, Any] = {
    "target": TARGET,
    "sensitive": ["sex", "race"],
    "positive_label": ">50K",
    "seed": 0,
}


def load_adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled UCI Adult data as (train, test) pandas frames."""
    ref = resources.files("assay.demo").joinpath("data/adult.csv.gz")
    with resources.as_file(ref) as path:
        df = pd.read_csv(path)
    train = df[df["split"] == "train"].drop(columns="split").reset_index(drop=True)
    test = df[df["split"] == "test"].drop(columns="split").reset_index(drop=True)
    return train, test


def build_model(train: pd.DataFrame) -> Any:
    """A scikit-learn pipeline: one-hot categoricals into gradient boosting."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = train.drop(columns=TARGET)
    categorical = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) == "str"]
    numeric = [c for c in X.columns if c not in categorical]
    pre = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
                ),
                categorical,
            ),
            ("num", "passthrough", numeric),
        ],
        verbose_feature_names_out=False,
    )
    clf = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        categorical_features=list(range(len(categorical))),
        random_state=0,
    )
    model = Pipeline([("prepare", pre), ("model", clf)])
    model.fit(X, train[TARGET])
    return model


def prepare() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Load the data and train the demo model."""
    train, test = load_adult()
    return train, test, build_model(train)


def save_artifacts(out_dir: str | Path, model: Any) -> None:
    """Save the demo model as ``model.skops`` when skops is installed."""
    try:
        import skops.io as sio
    except ImportError:  # pragma: no cover - the demo works without skops
        return
    sio.dump(model, Path(out_dir) / "model.skops")
