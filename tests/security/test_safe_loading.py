"""Malicious model files: nothing they hold runs, nothing outside their folder is read.

The files are built at test time (``fixtures/malicious.py``); each payload would
create a canary file. The first tests prove the payloads are live (they do run
when loaded the unsafe way, in a child process); the rest load every file
through Assay and show the canary is never created.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import assay
from assay.errors import ModelError, UntrustedModelError
from assay.io.models import load_model, sniff_model_file

from .fixtures.malicious import MaliciousSet, build

pytest.importorskip("skops")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[2]

REFUSED_ALWAYS = (
    "pickle_as_skops",
    "pickle_as_onnx",
    "pickle0_as_onnx",
    "joblib_as_skops",
)
PICKLES = ("pickle", "pickle_protocol0", "joblib", "joblib_compressed", "cloudpickle")
ONNX_OUTSIDE = ("onnx_dotdot", "onnx_absolute", "onnx_symlink")


@pytest.fixture
def evil(tmp_path) -> MaliciousSet:
    return build(tmp_path)


# -- the payloads are real ---------------------------------------------------------
# Loading them the unsafe way, on purpose, proves they are hostile: our own payloads
# only create the canary in this test's temporary folder.


def test_pickle_payload_is_live(evil):
    """Unpickling the fixture the unsafe way does create the canary."""
    import pickle

    pickle.loads(evil.files["pickle"].read_bytes())
    assert evil.canary.exists()


def test_skops_payload_is_live(evil):
    """skops told to trust ``builtins.exec`` runs the payload: the file really is hostile."""
    import skops.io as sio

    sio.load(evil.files["skops_exec"], trusted=["builtins.exec"])
    assert evil.canary.exists()


# -- Assay refuses them -------------------------------------------------------------


@pytest.mark.parametrize("name", PICKLES)
def test_pickles_refused_without_trust(evil, name):
    if name not in evil.files:
        pytest.skip(f"{name} could not be built here")
    with pytest.raises(UntrustedModelError, match="--trust-model"):
        load_model(evil.files[name])
    assert not evil.canary.exists()


@pytest.mark.parametrize("name", REFUSED_ALWAYS)
def test_pickle_under_safe_name_refused_even_when_trusted(evil, name):
    """A pickle named .skops/.onnx is recognised by content and never unpickled."""
    path = evil.files[name]
    assert sniff_model_file(path) == "pickle"
    for trust in (False, True):
        with pytest.raises(UntrustedModelError, match="holds a pickle"):
            load_model(path, trust_model=trust)
    assert not evil.canary.exists()


def test_skops_untrusted_reduce_listed_and_refused(evil):
    with pytest.raises(UntrustedModelError) as info:
        load_model(evil.files["skops_exec"])
    assert "builtins.exec" in str(info.value)
    assert not evil.canary.exists()


class _OpenRecorder:
    """Record every path Python opens while active (an audit hook cannot be removed)."""

    def __init__(self) -> None:
        self.active = False
        self.paths: list[str] = []
        self._lock = threading.Lock()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if self.active and event == "open" and args and isinstance(args[0], (str, bytes)):
            with self._lock:
                self.paths.append(str(args[0]))


_RECORDER = _OpenRecorder()


@pytest.mark.parametrize("name", ONNX_OUTSIDE)
def test_onnx_external_data_outside_folder_refused(evil, name, monkeypatch):
    """Refused before ONNX Runtime sees the file, and the secret is never opened."""
    import onnxruntime

    sessions = []
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: sessions.append(a) or None)
    _RECORDER.paths.clear()
    _RECORDER.active = True
    try:
        with pytest.raises(UntrustedModelError, match="outside its folder"):
            load_model(evil.files[name])
    finally:
        _RECORDER.active = False
    assert sessions == []
    secret = str(evil.secret.resolve())
    assert not any(Path(p).resolve() == Path(secret) for p in _RECORDER.paths if p)


def test_onnx_external_data_inside_folder_loads(evil):
    import polars as pl

    adapter = load_model(evil.files["onnx_inside"])
    got = adapter.model.run(None, {"x": np.zeros((2, 1), dtype=np.float32)})[0]
    np.testing.assert_allclose(got, [[1.0], [1.0]])
    assert adapter.kind == "onnx" and isinstance(pl.DataFrame, type)


def test_audit_refuses_before_reading_data(evil, tmp_path):
    """The public API refuses the model: no audit result, no canary."""
    import pandas as pd

    df = pd.DataFrame({"x": [0.0, 1.0] * 10, "y": [0, 1] * 10})
    for name in ("pickle", "pickle_as_skops", "skops_exec"):
        with pytest.raises(ModelError):
            assay.audit(test=df, target="y", model=str(evil.files[name]))
    assert not evil.canary.exists()


def test_cli_refuses_with_one_line(evil, tmp_path):
    import pandas as pd

    data = tmp_path / "test.csv"
    pd.DataFrame({"x": [0.0, 1.0] * 10, "y": [0, 1] * 10}).to_csv(data, index=False)
    for name in ("pickle_as_onnx", "skops_exec", "onnx_dotdot"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "assay.cli.main",
                "audit",
                "--test",
                str(data),
                "--target",
                "y",
                "--model",
                str(evil.files[name]),
                "--out",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=180,
        )
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
        assert "Traceback" not in out.stderr
    assert not evil.canary.exists()
    assert not (tmp_path / "out").exists()


def test_trusted_pickle_still_loads_with_a_warning(tmp_path):
    """--trust-model is an explicit opt-in that still works for a real model."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    from assay.io.models import TrustWarning

    m = LogisticRegression().fit(np.array([[0.0], [1.0]] * 5), [0, 1] * 5)
    path = tmp_path / "ok.joblib"
    joblib.dump(m, path)
    with pytest.warns(TrustWarning):
        adapter = load_model(path, trust_model=True)
    assert adapter.kind == "joblib"


def test_content_sniffing_has_no_false_alarms(tmp_path):
    """Real skops and ONNX files, and plain text, are not mistaken for pickles."""
    import skops.io as sio
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0, 1.0], [1.0, 0.0]] * 10, dtype=np.float32)
    m = LogisticRegression().fit(X, [0, 1] * 10)
    sio.dump(m, tmp_path / "m.skops")
    (tmp_path / "m.onnx").write_bytes(to_onnx(m, X[:1]).SerializeToString())
    (tmp_path / "t.txt").write_text("x")
    assert sniff_model_file(tmp_path / "m.skops") == "zip"
    assert sniff_model_file(tmp_path / "m.onnx") == "other"
    assert sniff_model_file(tmp_path / "t.txt") == "other"
    assert load_model(tmp_path / "m.onnx").kind == "onnx"
    assert load_model(tmp_path / "m.skops").kind == "skops"
