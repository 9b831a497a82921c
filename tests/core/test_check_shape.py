"""Every built-in check is measure -> judge -> describe (#15 item 3): its module defines
(or imports from its private judging module) at least one ``judge_*`` function that
decides from numbers and parameters alone, so the verdict is unit-testable without data.
A new check without such a function fails here.

"No data" is read from the signature: no parameter is an ``AuditContext`` (or named
``ctx``), a data frame or an array of rows.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import re
from types import ModuleType

import pytest

from assay.core.registry import all_checks

_DATA = {"AuditContext", "DataFrame", "LazyFrame", "ndarray", "Series"}
"""Type names of data (a measured dataclass such as ``SeriesDrift`` is not one)."""


def _modules(name: str) -> list[ModuleType]:
    """The check's module, and its private judging module ``_<name>_judge`` if any."""
    module = importlib.import_module(name)
    package, _, stem = name.rpartition(".")
    out = [module]
    with contextlib.suppress(ModuleNotFoundError):
        out.append(importlib.import_module(f"{package}._{stem}_judge"))
    return out


def _takes_data(fn) -> list[str]:
    """The parameters of ``fn`` that carry data, by annotation or by the name ``ctx``."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        note = p.annotation if isinstance(p.annotation, str) else repr(p.annotation)
        if p.name == "ctx" or _DATA & set(re.findall(r"\w+", note)):
            out.append(p.name)
    return out


def judges(module_name: str) -> dict[str, list[str]]:
    """``judge_*`` functions reachable from the check's module -> their data parameters."""
    found: dict[str, list[str]] = {}
    for module in _modules(module_name):
        for name, fn in vars(module).items():
            if name.startswith("judge_") and inspect.isfunction(fn):
                found[f"{fn.__module__}.{name}"] = _takes_data(fn)
    return found


BUILT_IN = sorted(
    {
        spec.id: spec.fn.__module__
        for spec in all_checks()
        if spec.fn.__module__.startswith("assay.")
    }.items()
)


def test_the_built_in_checks_are_found():
    assert len(BUILT_IN) >= 30


@pytest.mark.parametrize(("check_id", "module"), BUILT_IN, ids=[c for c, _ in BUILT_IN])
def test_every_check_has_a_judge_that_takes_no_data(check_id, module):
    found = judges(module)
    pure = [name for name, data in found.items() if not data]
    assert pure, (
        f"{check_id} ({module}) has no judge_* function that decides from numbers and "
        f"parameters alone (found: {found or 'none'}); split it into measuring, judging "
        "and describing functions (see docs/dev/contracts.md)"
    )


def test_the_signature_scan_sees_data_parameters():
    def judge_bad(ctx, th):
        return "pass"

    def judge_frame(df: DataFrame, th: dict) -> str:  # noqa: F821
        return "pass"

    def judge_good(m: Measured, th: dict) -> str:  # noqa: F821
        return "pass"

    def judge_series(m: SeriesDrift, s: pl.Series) -> str:  # noqa: F821
        return "pass"

    assert _takes_data(judge_bad) == ["ctx"]
    assert _takes_data(judge_frame) == ["df"]
    assert _takes_data(judge_good) == []
    assert _takes_data(judge_series) == ["s"]
    assert judges("assay.core.result") == {}  # a module without a judge finds none
