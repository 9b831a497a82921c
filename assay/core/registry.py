"""The one registry of checks.

A check is registered explicitly with :func:`register_check`, which records its
id, area, title, default thresholds, the standards it serves and what it
needs. The audit reads this registry; ``docs/checks.md`` documents it (a test
keeps the two in step).

This module imports nothing above it (``.importlinter``): the built-in check
modules are named in :data:`BUILTIN_CHECK_MODULES` and imported the first time
the registry is read; third-party checks come in through the ``assay.checks``
entry-point group (:data:`ENTRY_POINT_GROUP`).

Example
-------
>>> from assay.core.registry import get_check
>>> get_check("data.integrity").area
'data'
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assay.core.result import Finding, Severity, Status
from assay.errors import MissingExtraError, UnknownCheckError

if TYPE_CHECKING:
    from assay.core.charts import Unit
    from assay.core.context import AuditContext
    from assay.core.details import Details

Need = Literal["train", "model", "scores", "labels", "current"]
"""What a check needs from the audit. ``model`` means predictions from a model
or from prediction columns; ``scores`` means class probabilities."""


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the audit adds the registered metadata."""

    status: Status
    summary: str
    metrics: Mapping[str, float | int | None] = field(default_factory=dict)
    findings: tuple[Finding, ...] | list[Finding] = ()
    recommendation: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    units: Mapping[str, Unit] = field(default_factory=dict)
    """The unit of each metric that declares one (see :class:`CheckResult.units`)."""


class SkipCheck(Exception):
    """Raised inside a check to report ``skipped`` with a reason."""


CheckFn = Callable[["AuditContext", Mapping[str, Any]], Outcome]


EXTRAS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "fairness": (("fairlearn", "fairlearn"),),
    "labels": (("cleanlab", "cleanlab"),),
    "onnx": (("onnxruntime", "onnxruntime"), ("onnx", "onnx"), ("skl2onnx", "skl2onnx")),
    "efficiency": (("onnxmltools", "onnxmltools"),),
    "pii": (("presidio-analyzer", "presidio_analyzer"),),
    "security": (("adversarial-robustness-toolbox", "art"),),
}
"""Optional extras a check can declare (``extras=("labels",)``): for each, the
``(distribution, import name)`` pairs the checks need from it (a subset of the
extra in ``pyproject.toml``; a test keeps the two in step)."""


@dataclass(frozen=True)
class Extra:
    """An optional extra a check needs, on every task or only on ``tasks``."""

    name: str
    tasks: tuple[str, ...] | None = None

    def __str__(self) -> str:
        return self.name if self.tasks is None else f"{self.name} ({', '.join(self.tasks)})"


def _extras(declared: tuple[str, ...] | Mapping[str, tuple[str, ...]]) -> tuple[Extra, ...]:
    if isinstance(declared, str):
        declared = (declared,)
    items = (
        [Extra(k, tuple(v)) for k, v in declared.items()]
        if isinstance(declared, Mapping)
        else [Extra(k) for k in declared]
    )
    for e in items:
        if e.name not in EXTRAS:
            raise ValueError(f"unknown extra {e.name!r}; known extras: {', '.join(sorted(EXTRAS))}")
    return tuple(items)


def missing_package(extra: str) -> str | None:
    """The first distribution of ``extra`` that is not installed (found, not imported),
    or ``None`` when all are."""
    from importlib.util import find_spec

    for distribution, module in EXTRAS[extra]:
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return distribution
    return None


def extra_skip_reason(extra: str, package: str | None = None) -> str:
    """The one skip reason for a missing extra, in :class:`MissingExtraError`'s words:
    "this check needs the optional package 'cleanlab'; install it with: pip install
    'assay[labels]'"."""
    return str(MissingExtraError(package or EXTRAS[extra][0][0], extra, "this check"))


def require_extra(extra: str) -> None:
    """Raise :class:`SkipCheck` naming ``extra`` when one of its packages is missing; for
    a check that needs the extra only on some paths (declare it otherwise)."""
    missing = missing_package(extra)
    if missing is not None:
        raise SkipCheck(extra_skip_reason(extra, missing))


@dataclass(frozen=True)
class CheckSpec:
    """Registered metadata of one check."""

    id: str
    area: str
    title: str
    fn: CheckFn
    explanation: str
    standards: tuple[str, ...]
    severity: Severity = "medium"
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    needs: tuple[Need, ...] = ()
    tasks: tuple[str, ...] = ("binary", "multiclass", "regression")
    opt_in: bool = False
    deterministic: bool = True
    extras: tuple[Extra, ...] = ()
    params: type | None = None
    """The frozen dataclass declaring the parameters (``thresholds`` are its defaults);
    ``None`` for a check registered with ``thresholds=`` only."""
    details: type[Details] | None = None
    """The frozen dataclass declaring the shape of the check's ``details`` (a subclass of
    :class:`assay.core.details.Details`); ``None`` when the check declares none."""

    def missing_extra(self, task: str | None) -> str | None:
        """The skip reason when an extra this check needs on ``task`` is not installed."""
        for extra in self.extras:
            if extra.tasks is not None and task not in extra.tasks:
                continue
            missing = missing_package(extra.name)
            if missing is not None:
                return extra_skip_reason(extra.name, missing)
        return None


_REGISTRY: dict[str, CheckSpec] = {}


def register_check(
    id: str,
    *,
    area: str,
    title: str,
    explanation: str,
    standards: tuple[str, ...],
    severity: Severity = "medium",
    params: type | None = None,
    thresholds: Mapping[str, Any] | None = None,
    needs: tuple[Need, ...] = (),
    tasks: tuple[str, ...] = ("binary", "multiclass", "regression"),
    opt_in: bool = False,
    deterministic: bool = True,
    extras: tuple[str, ...] | Mapping[str, tuple[str, ...]] = (),
    details: type[Details] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable dotted ``id``.

    ``opt_in`` checks (slow ones, such as timing measurements) run only when
    asked for by id or area (``enable=[...]``, ``--enable``); checks that
    measure time declare ``deterministic=False``. ``extras`` names the optional
    extras (:data:`EXTRAS`) the check needs, as ``("labels",)`` or, when only some
    tasks need one, ``{"labels": ("binary", "multiclass")}``; without them the
    audit skips the check with one message naming the extra and the pip command.

    ``params`` is the check's frozen parameter dataclass (fields declared with
    :func:`assay.core.params.param`: default, doc, bounds); the check still receives a
    mapping, its defaults overlaid by ``assay.yaml``. ``thresholds={...}`` (defaults
    only, types inferred from them) still works for third-party checks.

    ``details`` is the frozen dataclass declaring what the check's ``details`` hold
    (:class:`assay.core.details.Details`); readers parse them into it with
    ``CheckResult.details_as`` and the common suite checks every result against it.
    """
    if not id.startswith(area + "."):
        raise ValueError(f"check id {id!r} must start with its area {area!r}")
    if params is not None:
        if thresholds is not None:
            raise ValueError(f"check {id!r}: give params= or thresholds=, not both")
        thresholds = _defaults(params)
    declared_extras = _extras(extras)
    if details is not None:
        _check_details_type(id, details)

    def deco(fn: CheckFn) -> CheckFn:
        if id in _REGISTRY and _REGISTRY[id].fn is not fn:
            raise ValueError(f"check id {id!r} is registered twice")
        _REGISTRY[id] = CheckSpec(
            id=id,
            area=area,
            title=title,
            fn=fn,
            explanation=explanation,
            standards=tuple(standards),
            severity=severity,
            thresholds=dict(thresholds or {}),
            needs=tuple(needs),
            tasks=tuple(tasks),
            opt_in=opt_in,
            deterministic=deterministic,
            extras=declared_extras,
            params=params,
            details=details,
        )
        return fn

    return deco


def _check_details_type(check_id: str, details: type) -> None:
    """A details type is a frozen dataclass deriving from ``Details`` (caught at import,
    not when a report is read)."""
    from assay.core.details import Details

    frozen = dataclasses.is_dataclass(details) and details.__dataclass_params__.frozen  # type: ignore[attr-defined]
    if not (isinstance(details, type) and issubclass(details, Details) and frozen):
        raise ValueError(
            f"check {check_id!r}: details={details!r} must be a frozen dataclass deriving from "
            "assay.core.details.Details"
        )


def _defaults(params: type) -> dict[str, Any]:
    """``{field: default}`` of a frozen parameter dataclass (read with the standard library,
    so this module imports nothing above it)."""
    # Every dataclass has __dataclass_params__; typeshed does not declare it.
    if not (dataclasses.is_dataclass(params) and params.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise ValueError(f"params={params!r} must be a frozen dataclass")
    out = {}
    for f in dataclasses.fields(params):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            raise ValueError(f"{params.__name__}.{f.name} has no default")
    return out


AREAS: tuple[str, ...] = (
    "data",
    "evaluation",
    "fairness",
    "drift",
    "monitoring",
    "security",
    "efficiency",
    "governance",
    "clustering",
    "anomaly",
)
"""Lifecycle areas, in the order reports and the catalogue show them."""


BUILTIN_CHECK_MODULES: tuple[str, ...] = (
    "assay.data.integrity",
    "assay.data.label_issues",
    "assay.data.leakage",
    "assay.data.overlap",
    "assay.data.provenance",
    "assay.data.representativeness",
    "assay.drift.features",
    "assay.drift.multivariate",
    "assay.drift.prediction",
    "assay.drift.target",
    "assay.efficiency.distillation",
    "assay.efficiency.inference",
    "assay.efficiency.quantization",
    "assay.evaluation.ablation",
    "assay.evaluation.baseline",
    "assay.evaluation.calibration",
    "assay.evaluation.overfitting",
    "assay.evaluation.performance",
    "assay.evaluation.robustness",
    "assay.evaluation.segments",
    "assay.evaluation.uncertainty",
    "assay.fairness.group_metrics",
    "assay.monitoring.estimation",
    "assay.monitoring.human",
    "assay.security.adversarial",
    "assay.security.attribute_inference",
    "assay.security.membership",
    "assay.security.pii",
    "assay.security.poisoning",
    "assay.unsupervised.anomaly",
    "assay.unsupervised.cluster_drift",
    "assay.unsupervised.clustering",
    "assay.unsupervised.segments",
)
"""The modules whose ``@register_check`` decorators define the built-in checks,
the one list of them. They are imported by name (:func:`importlib.import_module`)
the first time the registry is read, so this module imports nothing above it
and ``import assay`` loads no check."""

ENTRY_POINT_GROUP = "assay.checks"
"""Entry-point group through which an installed distribution adds checks: each
entry point names a module (``name = "my_package.checks"``) whose import
registers them (see ``docs/dev/contracts.md``)."""

_loaded = False


def _load_plugin_checks() -> None:
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not take the built-in checks down
            warnings.warn(
                f"Assay check plugin {ep.name!r} ({ep.value}) could not be loaded and is left "
                f"out: {type(exc).__name__}: {exc}. Reinstall or uninstall the distribution "
                "that declares it.",
                RuntimeWarning,
                stacklevel=3,
            )


def _load_checks() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True  # set first: a check module that reads the registry must not recurse
    try:
        for name in BUILTIN_CHECK_MODULES:
            importlib.import_module(name)
        _load_plugin_checks()
    except BaseException:
        _loaded = False
        raise


def all_checks() -> list[CheckSpec]:
    """Every registered check, in catalogue order (by area, then id)."""
    _load_checks()
    order = {a: i for i, a in enumerate(AREAS)}
    return sorted(_REGISTRY.values(), key=lambda s: (order.get(s.area, 99), s.id))


def get_check(check_id: str) -> CheckSpec:
    """Return the spec registered as ``check_id``; unknown ids list the valid ones."""
    _load_checks()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        valid = sorted(_REGISTRY)
        near = difflib.get_close_matches(check_id, valid, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise UnknownCheckError(
            f"unknown check id {check_id!r}.{hint} Valid ids: {', '.join(valid)}"
        ) from None
