"""Test helpers for checks, Assay's own and third-party ones (public).

In the spirit of scikit-learn's ``check_estimator``: :func:`run_check` runs one
registered check through :func:`assay.audit`, and :func:`parametrize_with_checks`
turns every registered check (or the ones named) times every contract of
:data:`CONTRACTS` into pytest cases. A contract is a plain function of a
:class:`~assay.CheckResult` that raises ``AssertionError`` naming what is wrong;
:func:`assert_same_result` and :func:`assert_row_order_invariant` compare two
runs of the same check.

Example (a plugin's test module)::

    from assay.testing import parametrize_with_checks, run_check

    @parametrize_with_checks(["mycompany.row_count"])
    def test_contract(check_id, contract):
        contract(run_check(check_id, my_test_frame, target="y", prediction="y"))

Importing this module imports pytest only when :func:`parametrize_with_checks`
is called.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from assay.core.audit import audit
from assay.core.registry import all_checks, get_check
from assay.core.result import CheckResult, to_jsonable

__all__ = [
    "CONTRACTS",
    "assert_row_order_invariant",
    "assert_same_result",
    "check_json_round_trip",
    "check_typed_charts",
    "check_typed_details",
    "check_well_formed",
    "parametrize_with_checks",
    "run_check",
]


def run_check(
    check_id: str,
    test: Any = None,
    train: Any = None,
    current: Any = None,
    *,
    model: Any = None,
    target: str | None = None,
    prediction: str | None = None,
    score: str | Iterable[str] | None = None,
    sensitive: str | Iterable[str] | None = None,
    task: str | None = None,
    trust_model: bool = False,
    **config: Any,
) -> CheckResult:
    """Run the registered check ``check_id`` alone and return its result.

    Parameters
    ----------
    check_id
        A registered id (an unknown one raises :class:`~assay.UnknownCheckError`
        with "did you mean"). Opt-in checks run too.
    test, train, current
        As for :func:`assay.audit`: pandas or Polars frames, or CSV/Parquet paths.
    model, target, prediction, score, sensitive, task, trust_model
        As for :func:`assay.audit`.
    **config
        Any other :class:`~assay.AuditConfig` field (``seed``, ``n_bootstrap``,
        ``thresholds={"data.integrity": {"missing_warn": 0.1}}``, ...), as in
        ``assay.yaml``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0] * 25, "y": [0, 1] * 50})
    >>> run_check("data.integrity", df, target="y").status
    'warn'
    """
    get_check(check_id)  # unknown ids fail here, with "did you mean"
    cfg: dict[str, Any] = {**config, "include": [check_id]}
    result = audit(
        train=train,
        test=test,
        target=target,
        model=model,
        prediction=prediction,
        score=score,
        sensitive=sensitive,
        current=current,
        config=cfg,
        task=task,
        trust_model=trust_model,
    )
    return result.check(check_id)


_NIST_ID = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+$")
_STATUSES = ("pass", "warn", "fail", "error", "skipped")


def check_json_round_trip(result: CheckResult) -> None:
    """The result survives strict JSON (no NaN) and reads back equal."""
    try:
        text = json.dumps(result.to_dict(), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{result.id}: not strict JSON: {exc}") from None
    again = CheckResult.from_dict(json.loads(text))
    assert again.to_dict() == result.to_dict(), f"{result.id}: JSON round trip changed it"


def check_well_formed(result: CheckResult) -> None:
    """Status, a one-sentence summary, an explanation, NIST ids, located findings and
    finite metrics; a skipped result says why in one sentence."""
    rid = result.id
    assert result.status in _STATUSES, f"{rid}: status {result.status!r}"
    s = result.summary
    assert s and s[0].isupper() and s.rstrip().endswith((".", "!", "?")), f"{rid}: summary {s!r}"
    if result.status == "skipped":
        assert s.startswith("Skipped: ") and len(s) > len("Skipped: ."), f"{rid}: {s!r}"
    assert len(result.explanation) > 40, f"{rid}: explanation too short"
    bad = [x for x in result.standards if not _NIST_ID.match(x)]
    assert result.standards and not bad, f"{rid}: standards {result.standards!r}"
    for f in result.findings:
        assert f.status in ("pass", "warn", "fail"), f"{rid}: finding status {f.status!r}"
        located = (f.column, f.columns, f.group, f.rows)
        assert any(x is not None for x in located), f"{rid}: finding without a place: {f}"
        if f.rows is not None:
            assert f.split is not None, f"{rid}: finding rows without a split: {f}"
    for k, v in result.metrics.items():
        finite = v is None or (isinstance(v, (int, float)) and math.isfinite(v))
        assert finite, f"{rid}: metric {k} = {v!r}"


def check_typed_charts(result: CheckResult) -> None:
    """Every entry of ``details["charts"]`` is a typed chart (:mod:`assay.core.charts`) that
    declares its unit and reads back as written; every declared metric unit is a known
    unit (it may name a metric that only some findings carry)."""
    from assay.core.charts import UNITS, chart_from_dict

    rid = result.id
    entries = result.details.get("charts") or []
    assert isinstance(entries, list | tuple), f"{rid}: details['charts'] is {type(entries)}"
    for i, entry in enumerate(entries):
        chart = chart_from_dict(entry)
        assert chart is not None, f"{rid}: chart {i} is not a typed chart: {entry!r:.120}"
        assert entry.get("unit") in UNITS, f"{rid}: chart {i} ({chart.title!r}) has no unit"
        same = chart.to_dict() == dict(entry)
        assert same, f"{rid}: chart {i} ({chart.title!r}) reads back changed"
    for name, unit in result.units.items():
        assert unit in UNITS, f"{rid}: metric {name} has unit {unit!r}"


def check_typed_details(result: CheckResult) -> None:
    """The details of a result that ran (pass, warn or fail) read strictly as the details
    type the check declares (``register_check(..., details=...)``, see
    :mod:`assay.core.details`): no key it does not declare, none of its fields missing or
    of another type; and they write back exactly as ``report.json`` holds them. A check
    that declares no details type (a third-party one) is not held to this."""
    from assay.core.details import details_from_dict, details_to_dict
    from assay.errors import InputError

    rid = result.id
    declared = get_check(rid).details
    if declared is None or result.status not in ("pass", "warn", "fail"):
        return
    written = to_jsonable(dict(result.details))
    try:
        typed = details_from_dict(declared, written, strict=True, where=f"{rid} details")
    except InputError as exc:
        raise AssertionError(f"{rid}: {exc} ({declared.__name__})") from None
    again = details_to_dict(typed)
    assert again == written, f"{rid}: details read as {declared.__name__} write back changed"


CONTRACTS: tuple[Callable[[CheckResult], None], ...] = (
    check_json_round_trip,
    check_well_formed,
    check_typed_charts,
    check_typed_details,
)
"""The contracts every result of every check keeps."""


def _comparable(result: CheckResult) -> dict[str, Any]:
    d = result.to_dict()
    d.pop("duration_s", None)
    return d


def assert_same_result(a: CheckResult, b: CheckResult) -> None:
    """Two runs with the same inputs and seed give the same result (but the time taken);
    for a check registered ``deterministic=False`` (timings), the same metric names."""
    assert a.id == b.id, (a.id, b.id)
    if not get_check(a.id).deterministic:
        assert set(a.metrics) == set(b.metrics), a.id
        return
    assert _comparable(a) == _comparable(b), a.id


_EVIDENCE = re.compile(r"(^|_)(p|q)(_value)?$")


def assert_row_order_invariant(a: CheckResult, b: CheckResult, *, resampled_tol: float = 0.03):
    """Shuffled rows change no status and no point estimate. Interval ends and p/q values
    come from resamples drawn over rows in their order, so they may move by
    ``resampled_tol`` (relative or absolute); timing checks keep their metric names."""
    assert a.id == b.id, (a.id, b.id)
    assert set(a.metrics) == set(b.metrics), a.id
    if not get_check(a.id).deterministic:
        return
    assert a.status == b.status, (a.id, a.summary, b.summary)
    for k, va in a.metrics.items():
        vb = b.metrics[k]
        if va is None or vb is None:
            assert va == vb, (a.id, k)
            continue
        resampled = k.endswith(("_low", "_high")) or _EVIDENCE.search(k)
        tol = resampled_tol if resampled else 1e-6
        assert math.isclose(va, vb, rel_tol=tol, abs_tol=tol), (a.id, k, va, vb)


def parametrize_with_checks(
    check_ids: Iterable[str] | None = None,
    contracts: Iterable[Callable[[CheckResult], None]] = CONTRACTS,
) -> Any:
    """A ``pytest.mark.parametrize`` over ``(check_id, contract)``: every registered
    check (or those named) times every contract, with readable test ids
    (``data.integrity-check_json_round_trip``).

    Unknown ids raise :class:`~assay.UnknownCheckError` at collection.
    """
    import pytest

    ids = [s.id for s in all_checks()] if check_ids is None else list(check_ids)
    for i in ids:
        get_check(i)
    funcs = list(contracts)
    cases = [(i, c) for i in ids for c in funcs]
    names = [f"{i}-{c.__name__}" for i, c in cases]
    return pytest.mark.parametrize(("check_id", "contract"), cases, ids=names)
