"""Assay: the evidence an ML model needs, from training to production.

>>> import assay
>>> sorted(assay.list_checks())[:2]
['data.integrity', 'data.provenance']
"""

from assay._version import __version__
from assay.core.audit import audit
from assay.core.audit_result import AuditResult
from assay.core.config import AuditConfig
from assay.core.registry import CheckSpec, all_checks, get_check
from assay.core.result import CheckResult, Finding
from assay.errors import (
    AssayError,
    ConfigError,
    InputError,
    MissingExtraError,
    ModelError,
    SchemaError,
    TargetError,
    UnknownCheckError,
    UntrustedModelError,
)


def list_checks() -> list[str]:
    """Ids of every registered check, in catalogue order.

    >>> "evaluation.performance" in list_checks()
    True
    """
    return [s.id for s in all_checks()]


__all__ = [
    "AssayError",
    "AuditConfig",
    "AuditResult",
    "CheckResult",
    "CheckSpec",
    "ConfigError",
    "Finding",
    "InputError",
    "MissingExtraError",
    "ModelError",
    "SchemaError",
    "TargetError",
    "UnknownCheckError",
    "UntrustedModelError",
    "__version__",
    "audit",
    "get_check",
    "list_checks",
]
