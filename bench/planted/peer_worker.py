"""Peer worker, run with the Python of the peers' own venv (never Assay's).

Usage: python peer_worker.py TOOL CASE_DIR  (TOOL: evidently | deepchecks)

CASE_DIR holds train/test/current Parquet files and meta.json (target, task,
categorical, problem). Prints one JSON object: {"flags": [...], "seconds": s}
where each flag names a column, rows or group the tool flagged; or
{"unsupported": why} when the tool has no equivalent check for the problem.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pandas as pd

# The closest check each tool has per problem type (None: no equivalent).
EVIDENTLY = {
    "drift_mean_shift": "DataDriftPreset",
    "drift_scale": "DataDriftPreset",
    "drift_category_frequency": "DataDriftPreset",
    "drift_new_category": "DataDriftPreset",
    "missing_burst": "MissingValueCount per column (test share > 0)",
    "clean": "DataDriftPreset + missing values",
}
DEEPCHECKS = {
    "leaking_feature": "FeatureLabelCorrelation (PPS)",
    "train_test_duplicates": "TrainTestSamplesMix",
    "conflicting_duplicates": "ConflictingLabels",
    "label_flips_random": None,
    "drift_mean_shift": "FeatureDrift",
    "drift_scale": "FeatureDrift",
    "drift_category_frequency": "FeatureDrift",
    "drift_new_category": "NewCategoryTrainTest",
    "weak_slice": "WeakSegmentsPerformance",
    "missing_burst": "PercentOfNulls",
    "clean": "all of the above",
}


def evidently(problem, meta, train, test, current):
    if EVIDENTLY.get(problem) is None:
        return {"unsupported": "no equivalent check"}
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    flags = []
    feats = [c for c in train.columns if c != meta["target"]]
    cats = [c for c in meta["categorical"] if c in feats]
    if problem.startswith("drift") or problem == "clean":
        dd = DataDefinition(
            numerical_columns=[c for c in feats if c not in cats], categorical_columns=cats
        )
        ref = Dataset.from_pandas(train[feats], data_definition=dd)
        cur = Dataset.from_pandas(current[feats], data_definition=dd)
        snap = Report([DataDriftPreset()]).run(cur, ref)
        for m in snap.dict()["metrics"]:
            cfg = m.get("config", {})
            if cfg.get("type", "").endswith("ValueDrift"):
                col = cfg.get("column")
                thr = cfg.get("threshold")
                val = m["value"]
                method = str(cfg.get("method", ""))
                drifted = (
                    val < thr
                    if "p_value" in method
                    or ("test" in method.lower() and "distance" not in method.lower())
                    else val >= thr
                )
                if drifted:
                    flags.append({"column": col, "check": "DataDriftPreset", "value": val})
    if problem in ("missing_burst", "clean"):
        from evidently.metrics import MissingValueCount

        dd = DataDefinition(
            numerical_columns=[c for c in feats if c not in cats], categorical_columns=cats
        )

        def shares(df):
            snap = Report([MissingValueCount(column=c) for c in feats]).run(
                Dataset.from_pandas(df[feats], data_definition=dd)
            )
            return {
                m["config"]["column"]: float(m["value"]["share"]) for m in snap.dict()["metrics"]
            }

        # Flag: the test set has missing cells in a column the training set had none in.
        before, after = shares(train), shares(test)
        for c in feats:
            if after.get(c, 0) > 0 and before.get(c, 0) == 0:
                flags.append({"column": c, "check": "MissingValueCount", "share": after[c]})
    return {"flags": flags}


def deepchecks(problem, meta, train, test, current):
    name = DEEPCHECKS.get(problem)
    if name is None:
        return {"unsupported": "no equivalent check"}
    from deepchecks.tabular import Dataset
    from deepchecks.tabular import checks as C

    target = meta["target"]
    cats = [c for c in meta["categorical"] if c in train.columns]
    label_type = "regression" if meta["task"] == "regression" else "binary"
    tr = Dataset(train, label=target, cat_features=cats, label_type=label_type)
    te = Dataset(test, label=target, cat_features=cats, label_type=label_type)
    want = (
        [problem]
        if problem != "clean"
        else [p for p, v in DEEPCHECKS.items() if v and p != "clean"]
    )
    flags: list[dict] = []
    errors: dict[str, str] = {}
    for p in want:
        # One check that cannot run (e.g. ConflictingLabels on a regression task)
        # must not void the other checks of a clean control.
        try:
            _deepchecks_one(
                p, C, Dataset, tr, te, train, test, current, target, cats, label_type, flags
            )
        except Exception as exc:
            if problem != "clean":
                raise
            errors[p] = (
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )
    return {"flags": flags, "check_errors": errors}


def _deepchecks_one(p, C, Dataset, tr, te, train, test, current, target, cats, label_type, flags):
    """Run the Deepchecks check for problem type ``p``; append its flags to ``flags``."""
    if p == "leaking_feature":
        r = C.FeatureLabelCorrelation().add_condition_feature_pps_less_than(0.8).run(tr)
        for col, v in r.value.items():
            if v >= 0.8:
                flags.append({"column": col, "check": "FeatureLabelCorrelation", "pps": float(v)})
    elif p == "train_test_duplicates":
        r = C.TrainTestSamplesMix().run(tr, te)
        share = float(r.value.get("ratio", 0)) if isinstance(r.value, dict) else 0.0
        if share > 0:
            # the tool's table is indexed "Train indices: i, ...\nTest indices: j, ..."
            pos = {lab: i for i, lab in enumerate(test.index)}
            rows = []
            data = r.value.get("data")
            for label in [] if data is None else data.index:
                part = str(label).split("Test indices:")[-1]
                for tok in re.findall(r"-?\d+", part):
                    if int(tok) in pos:
                        rows.append(pos[int(tok)])
            flags.append(
                {
                    "check": "TrainTestSamplesMix",
                    "share": share,
                    "rows": sorted(set(rows)),
                    "split": "test",
                }
            )
    elif p == "conflicting_duplicates":
        r = C.ConflictingLabels().run(tr)
        share = float(r.value.get("percent_of_conflicting_samples", 0))
        if share > 0:
            pos = {lab: i for i, lab in enumerate(train.index)}
            groups = r.value.get("samples_indices") or []
            rows = sorted({pos[i] for g in groups for i in g if i in pos})
            flags.append(
                {"check": "ConflictingLabels", "share": share, "rows": rows, "split": "train"}
            )
    elif p.startswith("drift") and p != "drift_new_category":
        cu = Dataset(current, cat_features=cats)
        trf = Dataset(train.drop(columns=[target]), cat_features=cats)
        r = C.FeatureDrift().add_condition_drift_score_less_than().run(trf, cu)
        for col, v in r.value.items():
            if (
                (v["Method"].startswith("Kolmogorov") or "Earth" in v["Method"])
                and v["Drift score"] >= 0.1
            ) or (("PSI" in v["Method"] or "Cramer" in v["Method"]) and v["Drift score"] >= 0.2):
                flags.append(
                    {"column": col, "check": "FeatureDrift", "score": float(v["Drift score"])}
                )
    elif p == "drift_new_category":
        cu = Dataset(current, cat_features=cats)
        trf = Dataset(train.drop(columns=[target]), cat_features=cats)
        r = C.NewCategoryTrainTest().run(trf, cu)
        val = r.value
        items = val.items() if isinstance(val, dict) else []
        if hasattr(val, "iterrows"):
            items = [(i, row.to_dict()) for i, row in val.iterrows()]
        for col, v in items:
            n = (
                v.get("# New Categories", v.get("Number of new categories", 0))
                if isinstance(v, dict)
                else 0
            )
            if n:
                flags.append({"column": col, "check": "NewCategoryTrainTest"})
    elif p == "weak_slice":
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        X = train.drop(columns=[target])
        nums = [c for c in X.columns if c not in cats]
        est = Ridge() if label_type == "regression" else LogisticRegression(max_iter=500)
        model = make_pipeline(
            ColumnTransformer(
                [
                    ("n", StandardScaler(), nums),
                    ("c", OneHotEncoder(handle_unknown="ignore"), cats),
                ]
            ),
            est,
        ).fit(X, train[target])
        r = C.WeakSegmentsPerformance().run(te, model)
        df = r.value["weak_segments_list"]
        for _, row in df.head(3).iterrows():
            flags.append(
                {
                    "columns": [row["Feature1"], row.get("Feature2")],
                    "check": "WeakSegmentsPerformance",
                }
            )
    elif p == "missing_burst":
        r = C.PercentOfNulls().run(te)
        v = r.value
        for col, row in v.iterrows() if hasattr(v, "iterrows") else []:
            if float(row.iloc[0]) > 0:
                flags.append({"column": col, "check": "PercentOfNulls"})


def main():
    tool = sys.argv[1]
    try:  # a tool that cannot be imported is reported once, for every case
        __import__(tool)
        import_error = None
    except Exception as exc:
        import_error = (
            f"import {tool} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        )
    for arg in sys.argv[2:]:
        folder = Path(arg)
        meta = json.loads((folder / "meta.json").read_text())
        frames = [pd.read_parquet(folder / f"{n}.parquet") for n in ("train", "test", "current")]
        t0 = time.perf_counter()
        try:
            if import_error:
                raise ImportError(import_error)
            fn = {"evidently": evidently, "deepchecks": deepchecks}[tool]
            out = fn(meta["problem"], meta, *frames)
        except Exception as exc:  # report, do not crash the benchmark
            msg = str(exc).splitlines()[0][:300] if str(exc) else ""
            out = {"error": f"{type(exc).__name__}: {msg}"}
        out["seconds"] = time.perf_counter() - t0
        out["case"] = folder.name
        print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
