"""The gate policy table (assay.core.gate_policy) covers every built-in check, names no
unknown check, and is what docs/checks.md shows."""

from __future__ import annotations

import assay  # noqa: F401  (registers the built-in checks)
from assay.core.catalogue import render_catalogue
from assay.core.gate_policy import POLICY
from assay.core.registry import all_checks


def test_every_built_in_check_has_a_gate_policy():
    missing = [s.id for s in all_checks() if s.id not in POLICY]
    assert not missing, f"write the gate policy of {missing} in assay/core/gate_policy.py"


def test_the_policy_names_only_registered_checks():
    known = {s.id for s in all_checks()}
    assert set(POLICY) <= known, sorted(set(POLICY) - known)


def test_the_catalogue_shows_each_policy():
    text = render_catalogue()
    assert "## Gate policy" in text
    for cid, p in POLICY.items():
        assert f"| `{cid}` | {p.kind} | {p.fails} | {p.warns} |" in text
