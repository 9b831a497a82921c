"""One assembly of the ``AuditResult`` (issue #15 item 4): ``assay.audit``,
``assay.drift.drift`` and ``assay bench`` (through ``assay.audit``) all build their
result with ``assay.core.audit.assemble``; ``assay.drift.drift`` is the function that
lives beside ``assay.audit`` in ``assay.core.drift_api``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.core import audit as core_audit
from assay.core import drift_api


@pytest.fixture
def assembled(monkeypatch):
    """Every call of the shared assembly: its ``engine`` and ``inputs`` keys."""
    seen: list[tuple[str | None, list[str]]] = []
    real = core_audit.assemble

    def spy(results, specs, ctx, **kw):
        seen.append((kw.get("engine"), list(kw["inputs"])))
        return real(results, specs, ctx, **kw)

    monkeypatch.setattr(core_audit, "assemble", spy)
    monkeypatch.setattr(drift_api, "assemble", spy)
    return seen


def _frame(n: int, shift: float = 0.0, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) + shift
    return pd.DataFrame({"x": x, "y": (x + rng.normal(size=n) > 0).astype(int)})


def test_the_public_drift_is_the_core_one():
    import assay.drift
    from assay.drift import drift

    assert drift is drift_api.drift is assay.drift.drift
    with pytest.raises(AttributeError, match="no attribute 'drfit'"):
        assay.drift.drfit  # noqa: B018


def test_audit_and_drift_assemble_their_result_in_one_place(assembled):
    import assay
    from assay.drift import drift

    ref, cur = _frame(300), _frame(300, shift=2.0, seed=2)
    a = assay.audit(test=ref, target="y", prediction="y", config={"include": ["data.integrity"]})
    d = drift(ref, cur, config={"include": ["drift.features"], "n_bootstrap": 20})
    assert assembled == [
        (None, ["test", "schema", "model", "prediction_columns", "sensitive"]),
        ("local", ["reference", "current", "schema", "prediction_columns"]),
    ]
    # settings: the run's, the checks run, the engine only where it is named
    assert a.settings["checks"] == ["data.integrity"] and "engine" not in a.settings
    assert d.settings["checks"] == ["drift.features"] and d.settings["engine"] == "local"
    assert "governance" in a.extra and not d.extra
    assert d.inputs["reference"]["rows"] == 300 and d.inputs["current"]["columns"] == 2
    assert d.check("drift.features").status == "fail"  # the planted shift is caught
    shuffled = ref.sample(frac=1.0, random_state=0)  # the same rows: nothing moved
    quiet = drift(ref, shuffled, config={"include": ["drift.features"], "n_bootstrap": 20})
    assert quiet.check("drift.features").status == "pass"
    for r in (a, d):
        assert r.created_at.endswith("+00:00") and r.assay_version == assay.__version__


def test_drift_checks_config_before_reading_and_closes_on_error(tmp_path):
    """Bad engine and unknown check ids are errors; a missing feature in current is a
    one-line schema error naming the column."""
    from assay.errors import ConfigError, SchemaError, UnknownCheckError

    ref = _frame(100)
    with pytest.raises(ConfigError, match="engine must be one of local, dask"):
        drift_api.drift(ref, ref, engine="spark")  # type: ignore[arg-type]
    with pytest.raises(UnknownCheckError):
        drift_api.drift(ref, ref, config={"include": ["drift.featurs"]})
    with pytest.raises(SchemaError, match="current data lacks feature column"):
        drift_api.drift(ref, ref.drop(columns="x"))
