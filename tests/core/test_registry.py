"""The registry: built-in checks listed once and loaded lazily, third-party checks
through the ``assay.checks`` entry-point group (fixtures in tests/fixtures/plugins)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from assay.core.registry import BUILTIN_CHECK_MODULES, ENTRY_POINT_GROUP, all_checks

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests" / "fixtures" / "plugins"


def python(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_builtin_tuple_lists_every_module_that_registers_a_check():
    registering = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "assay").rglob("*.py")
        if re.search(r"^@register_check\(", p.read_text(encoding="utf-8"), re.M)
    )
    assert sorted(BUILTIN_CHECK_MODULES) == registering
    assert len(set(BUILTIN_CHECK_MODULES)) == len(BUILTIN_CHECK_MODULES)


def test_every_builtin_module_registers_a_check():
    modules = {s.fn.__module__ for s in all_checks()}
    assert set(BUILTIN_CHECK_MODULES) <= modules


def test_import_assay_loads_no_check_module_and_no_plugin_is_found():
    out = python(
        "import sys, assay\n"
        "from assay.core.registry import BUILTIN_CHECK_MODULES as M\n"
        "print(sorted(m for m in M if m in sys.modules))\n"
        "ids = assay.list_checks()\n"
        "print(all(m in sys.modules for m in M), 'example.row_count' in ids)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]


AUDIT_WITH_PLUGIN = """
import numpy as np, pandas as pd, assay
rng = np.random.default_rng(0)
df = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(size=150)})
df["y"] = (df.a > 0).astype(int)
print("example.row_count" in assay.list_checks())
print(assay.get_check("example.row_count").thresholds["min_rows"])
for min_rows in (100, 1000):
    th = {"example.row_count": {"min_rows": min_rows}}
    cfg = {"include": ["example.row_count"], "thresholds": th}
    r = assay.audit(test=df, target="y", prediction="y", config=cfg)
    print([(c.id, c.status, c.metrics.get("rows")) for c in r.checks])
"""


def test_entry_point_plugin_is_discovered_and_runs():
    out = python(AUDIT_WITH_PLUGIN, PLUGINS / "good")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    assert lines[:2] == ["True", "100"]
    assert lines[2] == "[('example.row_count', 'pass', 150)]"  # 150 rows >= 100
    assert lines[3] == "[('example.row_count', 'warn', 150)]"  # 150 rows < 1000


def test_broken_plugin_warns_and_builtins_still_load():
    code = (
        "import sys, warnings, assay\n"
        "from assay.core.registry import BUILTIN_CHECK_MODULES as M\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    ids = assay.list_checks()\n"
        "print(all(m in sys.modules for m in M) and 'example.row_count' in ids)\n"
        "print([str(x.message) for x in w])\n"
    )
    out = python(code, PLUGINS / "broken", PLUGINS / "good")
    assert out.returncode == 0, out.stderr
    ok, messages = out.stdout.strip().split("\n")
    assert ok == "True"
    assert "'broken' (assay_broken_plugin.checks) could not be loaded" in messages
    assert "needs assay>=99" in messages
    assert "example" not in messages  # the good plugin beside it loaded (True above)


def test_group_name_is_documented():
    text = (ROOT / "docs" / "dev" / "contracts.md").read_text(encoding="utf-8")
    assert f'[project.entry-points."{ENTRY_POINT_GROUP}"]' in text
