"""The CI templates in examples/ci and the pre-commit hook, parsed and their commands run.

Each YAML file is read with ``yaml.safe_load`` and its structure checked; then
its shell commands (GitHub ``run:`` steps, GitLab ``script:`` lines, the
pre-commit hook's entry and the example's args) are executed here, in order,
with the CI's variables set (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``,
``${{ inputs.* }}`` and ``${{ steps.*.outputs.* }}`` substituted), against a
small fixture: a planted leaking column for the GitHub and GitLab templates
(the gate must fail, and the summary, JUnit file and report must still be
there), clean data for the pre-commit hook (the gate passes). The ``pip install`` line is
checked but not run (no network here; the venv already has Assay), and the
``uses:`` actions (upload-artifact, JUnit publishing) are checked to point at
files that exist after the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ..conftest import fit_logreg, make_binary

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "examples" / "ci" / "github-assay-audit.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-assay-audit.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PRECOMMIT_EXAMPLE = ROOT / "examples" / "ci" / "pre-commit-config.yaml"
QUICK = "--check data.target_leakage --check evaluation.performance --n-bootstrap 50"
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory) -> Path:
    """Clean train/test CSVs, the same with a planted leaking column, and a skops model."""
    import skops.io as sio

    d = tmp_path_factory.mktemp("ci")
    df = make_binary(800, seed=5)
    train, test = df.iloc[:500], df.iloc[500:]
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    leak = df.assign(leak=df["y"] + np.random.default_rng(1).normal(0, 0.05, len(df)))
    leak.iloc[:500].to_csv(d / "train_leak.csv", index=False)
    leak.iloc[500:].to_csv(d / "test_leak.csv", index=False)
    sio.dump(fit_logreg(train), d / "model.skops")
    return d


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "GITHUB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update({"NO_COLOR": "1", "COLUMNS": "200", **extra})
    return env


# -- GitHub Actions ---------------------------------------------------------------
def _github_expr(expr: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    parts = expr.split(".")
    if parts[0] == "inputs" and len(parts) == 2:
        return inputs[parts[1]]
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        return outputs.get(parts[1], {}).get(parts[3], "")
    raise AssertionError(f"unexpected expression in the workflow: {expr}")


def _read_outputs(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_github_workflow_structure():
    wf = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    call = on["workflow_call"]
    assert {"test", "target", "train", "model", "extra_args"} <= set(call["inputs"])
    assert call["inputs"]["test"]["required"] and call["inputs"]["target"]["required"]
    assert wf["permissions"]["checks"] == "write"
    steps = wf["jobs"]["audit"]["steps"]
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= set(uses)
    junit = uses["mikepenz/action-junit-report"]
    assert junit["with"]["report_paths"].endswith("/junit.xml") and junit["if"] == "always()"
    assert uses["actions/upload-artifact"]["if"] == "always()"
    runs = [s["run"] for s in steps if "run" in s]
    assert any("assay audit" in r for r in runs)
    assert any("--format summary" in r and "$GITHUB_STEP_SUMMARY" in r for r in runs)
    for r in runs:  # inputs reach the shell through env only (no script injection)
        assert "${{" not in r


def test_github_workflow_runs_locally_and_fails_the_gate_on_a_leak(fixture_dir, tmp_path):
    wf = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    declared = wf.get("on", wf.get(True))["workflow_call"]["inputs"]
    inputs = {k: str(v.get("default", "")) for k, v in declared.items()}
    inputs.update(
        test=str(fixture_dir / "test_leak.csv"),
        train=str(fixture_dir / "train_leak.csv"),
        target="y",
        model=str(fixture_dir / "model.skops"),
        extra_args=QUICK,
        out=str(tmp_path / "assay report"),  # a space: every path must be quoted
    )
    job = wf["jobs"]["audit"]
    summary, outputs = tmp_path / "step_summary.md", {}
    failed, results = False, {}
    for i, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses")
        if failed and step.get("if") != "always()":
            results[name] = "skipped"
            continue

        def sub(text: str) -> str:
            return _EXPR.sub(lambda m: _github_expr(m.group(1), inputs, outputs), str(text))

        if "uses" in step:
            results[name] = {k: sub(v) for k, v in (step.get("with") or {}).items()}
            continue
        if "pip install" in step["run"]:
            assert step["run"] == 'python -m pip install "$ASSAY_SPEC"'
            continue
        out_file = tmp_path / f"output_{i}"
        env = {k: sub(v) for k, v in {**job.get("env", {}), **step.get("env", {})}.items()}
        env.update(GITHUB_OUTPUT=str(out_file), GITHUB_STEP_SUMMARY=str(summary))
        script = tmp_path / f"step_{i}.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=fixture_dir,
            env=_env(env),
            capture_output=True,
            text=True,
            timeout=300,
        )
        results[name] = proc.returncode
        if "id" in step:
            outputs[step["id"]] = _read_outputs(out_file)
        failed = failed or proc.returncode != 0
    out = Path(inputs["out"])
    assert outputs["audit"]["exit_code"] == "1"  # the planted leak fails the gate
    assert results["Run assay audit"] == 0  # the audit step records the code, the gate fails
    assert results["Quality gate"] == 1
    text = summary.read_text(encoding="utf-8")
    assert "quality gate failed" in text and "`data.target_leakage`" in text
    assert Path(results["Publish JUnit results"]["report_paths"]) == out / "junit.xml"
    assert (out / "junit.xml").read_text(encoding="utf-8").count("<testcase") == 2
    assert (Path(results["Upload the report"]["path"]) / "report.html").is_file()


# -- GitLab CI --------------------------------------------------------------------
def test_gitlab_template_structure():
    job = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))[".assay-audit"]
    art = job["artifacts"]
    assert art["when"] == "always"
    out = job["variables"]["ASSAY_OUT"]
    assert art["reports"]["junit"] == f"{out}/junit.xml"
    assert art["paths"] == [f"{out}/"]
    assert any("assay audit" in line for line in job["script"])
    assert any("--format summary" in line for line in job["script"])


def test_gitlab_script_runs_locally_and_fails_the_gate_on_a_leak(fixture_dir, tmp_path):
    """The failing path (the clean one runs in the pre-commit test): the summary and the
    artifacts are still written, and the job exits with the audit's code."""
    data, code = "_leak", 1
    job = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))[".assay-audit"]
    variables = {k: str(v) for k, v in job["variables"].items()}
    variables.update(
        ASSAY_TEST=f"test{data}.csv",
        ASSAY_TRAIN=f"train{data}.csv",
        ASSAY_TARGET="y",
        ASSAY_MODEL="model.skops",
        ASSAY_EXTRA_ARGS=QUICK,
    )
    work = tmp_path / "project"  # the job's checkout: the fixture files and nothing else
    work.mkdir()
    for f in fixture_dir.iterdir():
        (work / f.name).symlink_to(f)
    lines = [line for line in job["script"] if "pip install" not in line]
    assert len(lines) == len(job["script"]) - 1
    script = tmp_path / "job.sh"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run(
        ["sh", "-e", str(script)],
        cwd=work,
        env=_env(variables),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == code, proc.stderr
    for path in job["artifacts"]["paths"]:
        assert (work / path / "report.html").is_file()
    assert (work / job["artifacts"]["reports"]["junit"]).is_file()
    summary = (work / variables["ASSAY_OUT"] / "summary.md").read_text(encoding="utf-8")
    assert "quality gate failed" in summary and "`data.target_leakage`" in summary
    assert summary in proc.stdout  # also printed in the job log


# -- pre-commit -------------------------------------------------------------------
def test_pre_commit_hook_definition():
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "assay-audit")
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["entry"] == "assay audit" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for changed in ("data/test.csv", "models/churn.skops", "m.onnx", "assay.yaml", "d.parquet"):
        assert files.search(changed), changed
    for unchanged in ("README.md", "src/train.py", "notes.txt", "other.yaml"):
        assert not files.search(unchanged), unchanged


def test_pre_commit_example_runs_the_hook(fixture_dir, tmp_path):
    hook = next(
        h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == "assay-audit"
    )
    config = yaml.safe_load(PRECOMMIT_EXAMPLE.read_text(encoding="utf-8"))
    args = config["repos"][0]["hooks"][0]["args"]
    assert config["repos"][0]["hooks"][0]["id"] == hook["id"]
    # lay the fixture out where the example's args point; assay.yaml keeps it quick
    fixtures = tmp_path / "tests" / "fixtures"
    fixtures.mkdir(parents=True)
    (fixtures / "test.csv").symlink_to(fixture_dir / "test.csv")
    (fixtures / "model.skops").symlink_to(fixture_dir / "model.skops")
    (tmp_path / "assay.yaml").write_text(
        "checks:\n  include: [data.target_leakage, evaluation.performance]\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [*hook["entry"].split(), *map(str, args)],
        cwd=tmp_path,
        env=_env({}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / args[args.index("--out") + 1]
    assert (out / "report.json").is_file() and (out / "junit.xml").is_file()
