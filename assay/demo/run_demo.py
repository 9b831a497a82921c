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
    "enable": ["efficiency"],  # opt-in timing checks: latency, ONNX, distillation, cost
}


# What only a model's owner can say, for the demo's model card.
DEMO_MODEL_CARD: dict[str, Any] = {
    "name": "Assay demo: income classifier on UCI Adult",
    "version": "demo",
    "owners": ["Nobody: a demonstration model built by assay demo"],
    "licence": "Apache-2.0 (the demo code); the UCI Adult data are under CC BY 4.0",
    "intended_use": "Showing what an Assay audit produces. Not for any real decision.",
    "intended_users": ["People trying Assay"],
    "out_of_scope_uses": [
        "Any decision about a real person: credit, hiring, housing, insurance or benefits"
    ],
    "ethical_considerations": (
        "The data come from the 1994 US census and carry that time's inequalities by sex and "
        "race; a model trained on them reproduces those inequalities."
    ),
    "caveats": "Trained and tested on 1994 data: its numbers say nothing about today.",
}
DEMO_KEY = "demo-signing"
DEMO_CONFIG["model_card"] = DEMO_MODEL_CARD


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


def write_evidence(out_dir: str | Path) -> str:
    """Pack the demo's outputs into ``evidence.zip`` and verify the pack.

    The pack is signed with a throwaway key made in ``out_dir`` (``demo-signing.key``
    and ``.pub``, replaced on every run; a real pack is signed with a key kept
    elsewhere). Without the ``cryptography`` package the pack is hashed but not
    signed. Returns one line saying what was written.
    """
    from assay.governance import build_pack, generate_keypair, verify_pack
    from assay.governance._evidence import EvidenceError

    out = Path(out_dir)
    for suffix in (".key", ".pub"):
        (out / f"{DEMO_KEY}{suffix}").unlink(missing_ok=True)
    key: Path | None
    pub: Path | None
    try:
        key, pub = generate_keypair(out, DEMO_KEY)
    except ImportError:  # MissingExtraError: no cryptography
        key = pub = None
    pack = out / "evidence.zip"
    build_pack(out, pack, private_key=key)
    check = verify_pack(pack, public_key=pub)
    if not check.ok:
        problems = "; ".join(str(p) for p in check.problems)
        raise EvidenceError(f"the demo's evidence pack failed verification: {problems}")
    if pub is None:
        return (
            f"Evidence pack {pack}: {len(check.files)} files hashed and verified, NOT signed "
            "(install assay[governance] to sign)"
        )
    return (
        f"Evidence pack {pack}: {len(check.files)} files, signed with a throwaway demo key "
        f"and verified (assay verify {pack} --key {pub})"
    )
