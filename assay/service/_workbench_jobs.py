"""The workbench's runner: one background thread per server process takes queued
audits from the store one at a time, runs them and writes their outputs.

An audit's files live in the workbench folder (outside any web root, created
private to the server's user), under random names. What a job writes, in
``audits/<id>/``: ``report.json``, ``report.html``, ``junit.xml``, ``model_card.md``,
``datasheet.md`` and ``evidence.zip`` (signed with the operator's key when one is
configured). Uploaded files are deleted when the audit ends unless the operator
keeps them (``keep_uploads``).

The reference model (``model: "reference"``) is Assay's, with a fixed recipe:
categorical columns ordinal-encoded (unknown and missing values get their own
codes), numeric columns as they are, into scikit-learn's
``HistGradientBoostingClassifier`` (or ``...Regressor``) with 200 iterations,
learning rate 0.08, categorical features declared, ``random_state`` the audit's
seed; fitted on the train split only. The report and model card say so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger("assay.service.workbench")

REFERENCE_RECIPE = (
    "Assay reference model: categorical columns ordinal-encoded, numeric columns as given, "
    "into scikit-learn HistGradientBoosting (200 iterations, learning rate 0.08, "
    "categorical features declared, random_state = the audit seed), fitted on the train "
    "split only. It is not your model: it shows what a plain, well-known model reaches on "
    "this data, so that the data checks and a baseline still run."
)
OUTPUTS = ("report.json", "report.html", "model_card.md", "datasheet.md", "junit.xml")
PACK = "evidence.zip"
STALE_AFTER_S = 1800


class Cancelled(Exception):
    """Raised inside the audit's progress callback when cancelling was asked."""


@dataclass(frozen=True)
class WorkbenchConfig:
    """Where files go and what is kept: the operator's ``workbench:`` settings."""

    root: Path
    keep_uploads: bool = False
    signing_key: str | None = None


def workbench_root(settings: Any, store: Any) -> Path:
    """The folder for uploads and outputs: ``workbench['dir']``; else next to the
    store's SQLite database file (``<db>.workbench``); else a fresh private
    temporary folder (PostgreSQL, or SQLite in memory)."""
    options = dict(getattr(settings, "workbench", None) or {})
    path = str(getattr(store, "path", "") or "")
    if options.get("dir"):
        root = Path(options["dir"])
    elif path and path != ":memory:":
        root = Path(path + ".workbench").absolute()
    else:
        root = Path(tempfile.mkdtemp(prefix="assay-workbench-"))
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in ("uploads", "audits", "drafts"):
        (root / sub).mkdir(exist_ok=True, mode=0o700)
    return root


def random_name(suffix: str = "") -> str:
    return secrets.token_hex(16) + suffix


def reference_model(train: Any, target: str, task: str, seed: int) -> Any:
    """Fit the reference model (see the module docstring) on ``train`` (polars)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = train.drop(target).to_pandas()
    y = train[target].to_pandas()
    categorical = [c for c in X.columns if X[c].dtype.kind not in "biuf"]
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
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    est = cls(
        max_iter=200,
        learning_rate=0.08,
        categorical_features=list(range(len(categorical))) or None,
        random_state=seed,
    )
    model = Pipeline([("prepare", pre), ("model", est)])
    model.fit(X, y)
    return model


def run_job(store: Any, job: Any, config: WorkbenchConfig) -> None:
    """Run one claimed audit to its end state (done, failed or cancelled)."""
    from assay.errors import AssayError

    try:
        _run(store, job, config)
    except Cancelled:
        store.finish_audit(job.id, "cancelled", "cancelled while it ran")
    except AssayError as exc:
        store.finish_audit(job.id, "failed", str(exc))
    except Exception as exc:  # one audit failing never stops the runner
        log.exception("workbench audit %s failed", job.id)
        store.finish_audit(job.id, "failed", f"internal error: {type(exc).__name__}: {exc}")
    finally:
        if not config.keep_uploads:
            for f in job.files.values():
                with contextlib.suppress(OSError):
                    (config.root / "uploads" / f["stored"]).unlink()


def _frame(config: WorkbenchConfig, f: dict[str, Any], field: str) -> Any:
    from assay.service._workbench_io import Caps, read_upload

    return read_upload(config.root / "uploads" / f["stored"], f["name"], field, Caps(**f["caps"]))


def _read_frames(
    config: WorkbenchConfig, spec: dict[str, Any], files: dict[str, Any]
) -> tuple[pl.DataFrame | None, pl.DataFrame, str, Any]:
    """``(train, test, task, split)`` from the uploads: one file split by the spec's
    seed and test share, or the train and test files as sent."""
    from assay.service._workbench_io import check_target, split_frame

    if "data" in files:
        df = _frame(config, files["data"], "data")
        task = check_target(df, spec, "data")
        train, test, split = split_frame(
            df, spec["target"], task, seed=spec["seed"], test_share=spec["test_share"]
        )
        return train, test, task, split
    test = _frame(config, files["test"], "test")
    given = _frame(config, files["train"], "train") if "train" in files else None
    return given, test, check_target(test, spec, "test"), None


def _audit_config(
    spec: dict[str, Any], task: str, drop: list[str], card: dict[str, Any]
) -> dict[str, Any]:
    """The audit configuration a job's spec asks for."""
    fields: dict[str, Any] = {
        "target": spec["target"],
        "task": task,
        "sensitive": list(spec.get("sensitive") or []),
        "ignore": drop,
        "prediction": spec.get("prediction"),
        "score": list(spec.get("score") or []),
        "seed": spec["seed"],
        "n_bootstrap": spec["n_bootstrap"],
    }
    if spec.get("positive_label") is not None:
        fields["positive_label"] = spec["positive_label"]
    if card:
        fields["model_card"] = card
    return fields


def _run(store: Any, job: Any, config: WorkbenchConfig) -> None:
    import assay
    from assay.core.audit_result import write_outputs

    spec, files = job.spec, job.files
    t0 = time.monotonic()

    def progress(check_id: str, done: int, total: int) -> None:
        if store.audit_progress(job.id, check_id, done, total):
            raise Cancelled

    progress("reading the data", 0, 0)
    train, test, task, split = _read_frames(config, spec, files)
    drop = [c for c in spec.get("ignore") or [] if c in test.columns]
    model, source = None, None
    card: dict[str, Any] = {}
    if "model" in files:
        from assay.io.models import load_model

        progress("loading the model", 0, 0)
        model = load_model(config.root / "uploads" / files["model"]["stored"], task=task)
        source = f"uploaded file {files['model']['name']!r} ({files['model']['sha256'][:12]})"
    elif spec.get("model") == "reference":
        if train is None:
            from assay.service._workbench_io import UploadError

            raise UploadError("train", "the reference model needs training data")
        progress("fitting the reference model", 0, 0)
        fit_on = train.drop([c for c in drop if c in train.columns])
        model = reference_model(fit_on, spec["target"], task, spec["seed"])
        source = REFERENCE_RECIPE
        card = {
            "name": "Assay reference model (not your model)",
            "version": "reference",
            "owners": ["Assay workbench: fitted for this audit"],
            "intended_use": "A yardstick for this data. Not for any real decision.",
            "caveats": REFERENCE_RECIPE,
        }
    config_fields = _audit_config(spec, task, drop, card)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = assay.audit(
            train=train, test=test, model=model, config=config_fields, progress=progress
        )
    extra = dict(result.extra)
    extra["workbench"] = {
        "audit_id": job.id,
        "model_source": source or "no model: data checks only",
        "reference_model": spec.get("model") == "reference",
        "split": split,
        "files": {role: {"name": f["name"], "sha256": f["sha256"]} for role, f in files.items()},
        "seconds": round(time.monotonic() - t0, 2),
    }
    report = replace(result, extra=extra).to_dict()
    out = config.root / "audits" / job.id
    progress("writing the report", 0, 0)
    write_outputs(report, out)
    pack_evidence(out, config.signing_key)
    store.finish_audit(job.id, "done")


def pack_evidence(out: Path, signing_key: str | None) -> None:
    from assay.governance._evidence import build_pack

    build_pack(out, out / PACK, private_key=signing_key)


def record_decisions(out: Path, decisions: list[dict[str, Any]], signing_key: str | None) -> None:
    """Write the people's decisions on the next steps into ``report.json`` (under
    ``extra.workbench.decisions``), re-render every output from it and re-pack."""
    from assay.core.audit_result import write_outputs

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    wb = dict((report.get("extra") or {}).get("workbench") or {})
    wb["decisions"] = decisions
    report.setdefault("extra", {})["workbench"] = wb
    write_outputs(report, out)
    pack_evidence(out, signing_key)


class Runner:
    """One thread taking queued audits from the store, one at a time."""

    def __init__(self, store: Any, config: WorkbenchConfig, poll_s: float = 0.5) -> None:
        self.store, self.config, self.poll_s = store, config, poll_s
        self.holder = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with contextlib.suppress(Exception):
            self.store.requeue_stale_audits(time.time() - STALE_AFTER_S)
        self._thread = threading.Thread(target=self._loop, name="assay-workbench", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_once(self) -> bool:
        """Take and run one queued audit; ``False`` when none waited."""
        job = self.store.claim_audit(self.holder)
        if job is None:
            return False
        run_job(self.store, job, self.config)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the store is unavailable: try again later
                log.exception("workbench runner")
                ran = False
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()


def remove_audit_files(config: WorkbenchConfig, audit_id: str) -> None:
    shutil.rmtree(config.root / "audits" / audit_id, ignore_errors=True)
