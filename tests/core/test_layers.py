"""The import-layer contract (``.importlinter``): kept by the code as it is, and
broken by an upward import planted in a copy of the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install -e '.[dev]')"
)


def lint(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_contract_is_kept():
    out = lint(ROOT, ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("module", "planted", "message"),
    [
        # the registry reaching up into the checks it lists by name
        ("core/registry.py", "import assay.data.integrity", "assay.core.registry is not allowed"),
        # a check reaching up into a renderer, inside a function
        (
            "evaluation/calibration.py",
            "def _f():\n    from assay.render import html",
            "assay.evaluation is not allowed to import assay.render",
        ),
        # a check importing the public root package (which imports the runner)
        ("fairness/group_metrics.py", "import assay", "assay.fairness is not allowed"),
    ],
)
def test_planted_upward_import_breaks_it(tmp_path, module, planted, message):
    shutil.copytree(
        ROOT / "assay", tmp_path / "assay", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (tmp_path / "assay" / module).open("a", encoding="utf-8") as f:
        f.write(f"\n\n{planted}\n")
    out = lint(tmp_path, tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert message in out.stdout
