"""The public API: curated, documented, light to import."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import polars as pl

import assay

HEAVY = (
    "skops",
    "onnxruntime",
    "onnx",
    "skl2onnx",
    "fastapi",
    "uvicorn",
    "matplotlib",
    "torch",
    "presidio_analyzer",
    "art",
    "dask",
    "cleanlab",
    "fairlearn",
)


def test_every_public_name_is_documented():
    for name in assay.__all__:
        obj = getattr(assay, name)
        if name == "__version__":
            continue
        assert obj.__doc__ and obj.__doc__.strip(), f"assay.{name} has no docstring"


def test_import_is_light():
    code = f"import sys, assay; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import assay pulled in: {out.stdout}"


def test_audit_result_api(binary_data, binary_model, tmp_path):
    train, test, _ = binary_data
    r = assay.audit(
        train=pl.from_pandas(train),
        test=test,
        target="y",
        model=binary_model,
        config={"n_bootstrap": 30},
    )
    assert r.to_dict()["checks"] == [c.to_dict() for c in r.checks]
    assert sum(r.summary().values()) == len(r.checks)
    assert r.check("data.integrity").id == "data.integrity"
    assert isinstance(r.to_frame(), pd.DataFrame)
    assert "<" in r._repr_html_()
    paths = r.save(tmp_path / "out")
    from assay.core.audit_result import OUTPUT_FILES

    assert "datasheet.md" in OUTPUT_FILES
    assert sorted(paths) == sorted(OUTPUT_FILES)
    again = assay.AuditResult.from_dict(r.to_dict())
    assert again.to_dict() == r.to_dict()


def test_errors_share_one_root():
    for name in (
        "InputError",
        "SchemaError",
        "TargetError",
        "ModelError",
        "ConfigError",
        "UntrustedModelError",
        "UnknownCheckError",
        "MissingExtraError",
    ):
        assert issubclass(getattr(assay, name), assay.AssayError)
    assert issubclass(assay.InputError, ValueError)


def test_config_files_are_read_one_way_for_audit_and_model_card(tmp_path):
    """A missing file, a folder, bad YAML and a non-mapping each give one ConfigError
    naming the file, whether read as an audit config or for the model card fields."""
    import pytest

    from assay.core.config import AuditConfig
    from assay.errors import ConfigError
    from assay.governance import read_owner_fields

    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("target: [unclosed\n")
    a_list = tmp_path / "list.yaml"
    a_list.write_text("- a\n- b\n")
    cases = {
        tmp_path / "missing.yaml": "does not exist",
        tmp_path: "does not exist",
        bad_yaml: "is not valid YAML at line",
        a_list: "must hold a mapping",
    }
    for path, words in cases.items():
        for read in (AuditConfig.from_file, read_owner_fields):
            with pytest.raises(ConfigError, match=words) as err:
                read(path)
            assert str(path) in str(err.value)
    good = tmp_path / "assay.yaml"
    good.write_text("target: y\nmodel_card:\n  licence: MIT\n")
    assert AuditConfig.from_file(good).target == "y"
    assert read_owner_fields(good) == {"licence": "MIT"}
