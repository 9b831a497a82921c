"""Check parameters are validated once, when the configuration is read."""

from __future__ import annotations

import pytest

from assay.core.params import validate_thresholds
from assay.core.registry import all_checks
from assay.errors import ConfigError
from tests.cli.helpers import run_cli


def test_every_check_accepts_its_own_defaults():
    checks = all_checks()
    assert len(checks) >= 25
    validate_thresholds({s.id: dict(s.thresholds) for s in checks})


@pytest.mark.parametrize(
    ("thresholds", "needle"),
    [
        ({"data.integrity": {"missing_warnn": 0.1}}, "did you mean 'missing_warn'"),
        ({"data.integrty": {"missing_warn": 0.1}}, "Did you mean 'data.integrity'"),
        ({"evaluation.performance": {"max_ci_width": "abc"}}, "must be a number"),
        ({"evaluation.ablation": {"refit": "yes"}}, "must be true or false"),
        ({"security.adversarial": {"budgets": 0.1}}, "must be a list"),
        ({"data.integrity": 0.1}, "must be a mapping"),
        ({"evaluation.performance": {"max_ci_width": float("nan")}}, "must be a number"),
    ],
)
def test_bad_parameters_are_named(thresholds, needle):
    with pytest.raises(ConfigError, match=needle):
        validate_thresholds(thresholds)


def test_a_whole_number_parameter_refuses_a_fraction():
    spec = next(s for s in all_checks() for v in s.thresholds.values() if type(v) is int)
    name = next(k for k, v in spec.thresholds.items() if type(v) is int)
    with pytest.raises(ConfigError, match=f"{spec.id}.{name}: must be a whole number"):
        validate_thresholds({spec.id: {name: 1.5}})
    validate_thresholds({spec.id: {name: 2.0}})  # 2.0 is a whole number


def test_python_api_refuses_before_reading_data(tmp_path):
    import assay

    missing = tmp_path / "nope.csv"  # never read: the config is checked first
    with pytest.raises(ConfigError, match="missing_warnn"):
        assay.audit(
            test=missing,
            target="y",
            config={"thresholds": {"data.integrity": {"missing_warnn": 1}}},
        )


def test_cli_misspelled_parameter_is_exit_2_one_line(tmp_path):
    (tmp_path / "assay.yaml").write_text(
        "thresholds:\n  evaluation.performance:\n    max_ci_width: abc\n"
    )
    test = tmp_path / "test.csv"
    test.write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    proc = run_cli(
        "audit", "--test", test, "--target", "y", "--out", tmp_path / "out", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "thresholds.evaluation.performance.max_ci_width: must be a number" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing half-written
