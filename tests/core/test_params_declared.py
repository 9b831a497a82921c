"""Declared check parameters (#15 item 1): each check's frozen parameter type gives the
defaults, the validation of assay.yaml (unknown key, type, bounds), the catalogue and the
JSON Schema of assay.yaml."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import yaml

from assay.core.config_schema import config_schema, render_schema
from assay.core.params import param, param_fields, params_of, validate_params, validate_thresholds
from assay.core.registry import _REGISTRY, all_checks, get_check, register_check
from assay.errors import ConfigError, UnknownCheckError
from tests.cli.helpers import run_cli, run_cli_subprocess

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ToyParams:
    share_warn: float = param(0.05, "Share that warns.", ge=0, le=1)
    folds: int = param(5, "Folds.", ge=2)
    refit: bool = param(True, "Refit.")
    correction: Literal["bh", "none"] = param("bh", "Correction.")
    levels: list[float] = param([0.9, 0.95], "Levels.", gt=0, lt=1)
    limits: dict[str, float] = param({}, "Limits by metric.")
    groups: dict[str, list[str] | str] = param({}, "Groups.")


def _refused(values: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_params(ToyParams, values, where="thresholds.toy")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_values_of_the_declared_types_and_bounds_pass():
    validate_params(
        ToyParams,
        {
            "share_warn": 1,  # an int is a number
            "folds": 3.0,  # a whole float is a whole number
            "refit": False,
            "correction": "none",
            "levels": [0.5],
            "limits": {"roc_auc": 0.8},
            "groups": {"address": ["zip", "city"], "one": "age"},
        },
        where="thresholds.toy",
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"share_warnn": 0.1},
            "thresholds.toy.share_warnn: unknown parameter; did you mean 'share_warn'?",
        ),
        ({"share_warn": "abc"}, "thresholds.toy.share_warn: must be a number, got 'abc'"),
        ({"share_warn": True}, "thresholds.toy.share_warn: must be a number, got True"),
        ({"folds": True}, "thresholds.toy.folds: must be a whole number, got True"),
        ({"folds": 2.5}, "thresholds.toy.folds: must be a whole number, got 2.5"),
        ({"refit": 1}, "thresholds.toy.refit: must be true or false, got 1"),
        ({"share_warn": 1.5}, "thresholds.toy.share_warn: must be at most 1, got 1.5"),
        ({"share_warn": -0.1}, "thresholds.toy.share_warn: must be at least 0, got -0.1"),
        ({"folds": 1}, "thresholds.toy.folds: must be at least 2, got 1"),
        ({"levels": [0.9, 1.0]}, "thresholds.toy.levels[1]: must be below 1, got 1.0"),
        ({"levels": 0.9}, "thresholds.toy.levels: must be a list of numbers, got 0.9"),
        ({"levels": [0.9, "x"]}, "thresholds.toy.levels[1]: must be a number, got 'x'"),
        ({"correction": "holm"}, "thresholds.toy.correction: must be one of 'bh', 'none', got"),
        ({"limits": {"mae": "3"}}, "thresholds.toy.limits.mae: must be a number, got '3'"),
        ({"groups": {"a": 3}}, "thresholds.toy.groups.a: must be a list of texts or text, got 3"),
        ({"share_warn": float("nan")}, "thresholds.toy.share_warn: must be a number"),
    ],
)
def test_bad_values_are_refused_in_one_line_naming_the_field(values, expected):
    assert _refused(values).startswith(expected)


def test_register_check_derives_the_defaults_from_the_params_type():
    fn = get_check("data.integrity").fn
    try:
        register_check(
            "data.toy_params",
            area="data",
            title="t",
            explanation="e",
            standards=(),
            params=ToyParams,
        )(fn)
        spec = _REGISTRY["data.toy_params"]
        assert spec.params is ToyParams
        assert spec.thresholds["share_warn"] == 0.05 and spec.thresholds["levels"] == [0.9, 0.95]
        with pytest.raises(ConfigError, match=r"data\.toy_params\.folds: must be at least 2"):
            validate_thresholds({"data.toy_params": {"folds": 0}})
    finally:
        _REGISTRY.pop("data.toy_params", None)


def test_thresholds_only_registration_still_works_with_inferred_types():
    fn = get_check("data.integrity").fn
    try:
        register_check(
            "data.toy_legacy",
            area="data",
            title="t",
            explanation="e",
            standards=(),
            thresholds={"limit": 0.5, "rounds": 3, "on": True},
        )(fn)
        spec = _REGISTRY["data.toy_legacy"]
        assert spec.params is None
        names = [f.name for f in param_fields(params_of(spec))]
        assert names == ["limit", "rounds", "on"]
        validate_thresholds({"data.toy_legacy": {"limit": 2, "rounds": 4.0, "on": False}})
        with pytest.raises(ConfigError, match=r"data\.toy_legacy\.rounds: must be a whole number"):
            validate_thresholds({"data.toy_legacy": {"rounds": 1.5}})
        with pytest.raises(ConfigError, match=r"data\.toy_legacy\.on: must be true or false"):
            validate_thresholds({"data.toy_legacy": {"on": 0}})
    finally:
        _REGISTRY.pop("data.toy_legacy", None)


def test_params_and_thresholds_together_are_refused():
    with pytest.raises(ValueError, match="params= or thresholds="):
        register_check(
            "data.toy_both",
            area="data",
            title="t",
            explanation="e",
            standards=(),
            params=ToyParams,
            thresholds={"share_warn": 0.1},
        )


def test_every_check_declares_a_frozen_params_type_with_a_doc_per_field():
    for spec in all_checks():
        assert spec.params is not None, f"{spec.id} registers no params= type"
        assert dataclasses.is_dataclass(spec.params), spec.id
        assert spec.params.__dataclass_params__.frozen, spec.id
        fields = param_fields(spec.params)
        assert [f.name for f in fields] == list(spec.thresholds), spec.id
        for f in fields:
            assert f.doc.strip(), f"{spec.id}.{f.name} has no doc"
            assert len(f.doc) <= 140, f"{spec.id}.{f.name}: one line, please"
            assert f.kind != "any value", f"{spec.id}.{f.name} has no type"
        # the defaults satisfy their own declaration
        validate_params(spec.params, dict(spec.thresholds), where=spec.id)


def test_every_built_in_bound_refuses_a_value_beyond_it():
    tried = 0
    for spec in all_checks():
        for f in param_fields(params_of(spec)):
            for key, bound in f.bounds:
                bad = {"ge": bound - 1, "gt": bound, "le": bound + 1, "lt": bound}[key]
                value = [bad] if isinstance(f.default, list) else bad
                with pytest.raises(ConfigError, match=rf"{re.escape(spec.id)}\.{f.name}"):
                    validate_thresholds({spec.id: {f.name: value}})
                tried += 1
    assert tried > 200


# -- JSON Schema of assay.yaml ---------------------------------------------------------


@functools.cache
def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_up_to_date():
    committed = (ROOT / "docs" / "assay.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "run `assay schema > docs/assay.schema.json`"


def _yaml_blocks(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return [b for b in (yaml.safe_load(x) for x in blocks) if isinstance(b, dict)]


def test_example_configs_validate_against_the_schema():
    from assay.core import config

    docstring = config.__doc__.split("Example ``assay.yaml``::")[1]
    examples = [yaml.safe_load(re.sub(r"(?m)^    ", "", docstring))]
    readme = [b for b in _yaml_blocks(ROOT / "README.md") if "target" in b or "thresholds" in b]
    examples += readme + _yaml_blocks(ROOT / "docs" / "checks.md")
    assert len(examples) >= 3
    validator = _validator()
    for example in examples:
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, (example, errors)
        config.AuditConfig.from_mapping(example)  # and Assay reads them
        validate_thresholds(example.get("thresholds", {}))


@pytest.mark.parametrize(
    "bad",
    [
        {"thresholds": {"data.integrity": {"missing_warn": 1.5}}},
        {"thresholds": {"data.integrity": {"missing_warnn": 0.1}}},
        {"thresholds": {"data.integrty": {}}},
        {"thresholds": {"drift.features": {"correction": "holm"}}},
        {"thresholds": {"evaluation.ablation": {"refit": "yes"}}},
        {"checks": {"exclude": ["data.integrty"]}},
        {"tsak": "binary"},
    ],
)
def test_schema_and_assay_refuse_the_same_bad_configs(bad):
    assert list(_validator().iter_errors(bad)), bad
    from assay.core.config import AuditConfig
    from assay.core.registry import get_check

    with pytest.raises((ConfigError, UnknownCheckError)):
        cfg = AuditConfig.from_mapping(bad)
        validate_thresholds(cfg.thresholds)
        for check_id in cfg.exclude:
            get_check(check_id)


def test_schema_cli_prints_the_committed_schema():
    proc = run_cli_subprocess("schema")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(render_schema())


def test_cli_out_of_bounds_parameter_in_config_file_is_exit_2_one_line(tmp_path):
    (tmp_path / "assay.yaml").write_text(
        "thresholds:\n  data.integrity:\n    missing_warn: 1.5\n", encoding="utf-8"
    )
    test = tmp_path / "test.csv"
    test.write_text("x,y\n1,0\n2,1\n3,0\n4,1\n", encoding="utf-8")
    proc = run_cli(
        "audit", "--test", test, "--target", "y", "--out", tmp_path / "out", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "thresholds.data.integrity.missing_warn: must be at most 1, got 1.5" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()
